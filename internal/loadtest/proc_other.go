//go:build !linux

package main

import (
	"errors"
	"runtime"
	"syscall"
)

var errPlatform = errors.New("loadtest reads the exporter's memory in Linux's /proc and does not run on " + runtime.GOOS)

func checkPlatform() error { return errPlatform }

func memStatus(int) (rss, hwm int64, err error) { return 0, 0, errPlatform }

func loadAverage() float64 { return 0 }

func tcpCongestion() string { return "" }

func resetPeak(int) error { return errPlatform }

func childAttr() *syscall.SysProcAttr { return nil }
