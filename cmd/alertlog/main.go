// Command alertlog is a webhook receiver for Alertmanager that only shows
// what it receives: each alert of each notification is one line of its log,
// and its page lists the last 100 notifications, newest first. It makes
// alerts visible where no chat or paging account is set up yet, such as
// the docker-compose stack:
//
//	receivers:
//	  - name: oncall-webhook
//	    webhook_configs:
//	      - url: http://alertlog:9095/alerts
//	        send_resolved: true
//
// It keeps nothing on disk and needs no secret. GET /-/healthy answers 200
// while it serves.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
)

const program = "alertlog"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx is done or the server fails, and returns the exit
// code. The log, notifications included, goes to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(program, "Receive Alertmanager's webhook notifications at /alerts, log one line per alert and list the last "+
		fmt.Sprint(keep)+" notifications at /.")
	listen := app.Flag("web.listen-address", "Address to listen on.").Default(":9095").String()
	logConfig := &promslog.Config{}
	promslogflag.AddFlags(app, logConfig)
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 2
	}
	logConfig.Writer = stdout
	logger := promslog.New(logConfig)

	l, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("cannot listen", "address", *listen, "err", err)
		return 1
	}
	srv := &http.Server{
		Handler:           newReceiver(logger, time.Now).handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       5 * time.Minute,
	}
	logger.Info("listening for Alertmanager notifications", "address", l.Addr().String(), "webhook_path", "/alerts")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		logger.Error("server failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
