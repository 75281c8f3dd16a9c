//go:build !linux

package exporter

const canLowerThreadPriority = false

func lowerThreadPriority(RefreshPriority) error { return nil }
