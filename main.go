// Command influencer_exporter polls link shorteners, shops and social
// platforms in the background and exports per-creator campaign metrics for
// Prometheus.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	// Quota days and campaign windows use IANA zones (YouTube resets at
	// midnight Pacific time) even on hosts without tzdata.
	_ "time/tzdata"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/all"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/report"
	"github.com/influencer-exporter/influencer_exporter/sandbox"
)

const program = "influencer_exporter"

// startSandbox is a variable so tests can reach the running fakes.
var startSandbox = sandbox.Start

// defaultAddress is in the range above 10000 of the Prometheus default port
// allocations list (9100-9999 is full); see the README.
const defaultAddress = ":10194"

func init() {
	// Release builds set the version with -ldflags; `go install ...@vX`
	// records it in the build info; anything else is a development build.
	if version.Version == "" {
		version.Version = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code once ctx is done or the
// server fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(program, "Exports influencer campaign metrics (clicks, redemptions, attention, tracking-link health) for Prometheus. "+
		"Without a command it serves the metrics: `"+program+" help serve` lists the exporter's flags.")
	// serve is the default command, so the exporter runs with its flags
	// and no command, as it always has.
	var refreshNiceSet bool
	serve := app.Command("serve", "Poll the providers and serve the metrics (the default command).").Default()
	var (
		configFile    = serve.Flag("config.file", "Configuration file.").Default("config.yaml").String()
		configCheck   = serve.Flag("config.check", "Validate the configuration file, print every error and exit.").Bool()
		configMax     = serve.Flag("config.max-size", configMaxSizeHelp).Default("16MiB").Bytes()
		metricsPath   = serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		storagePath   = serve.Flag("storage.path", "Directory for state that survives a restart: shop orders and watermarks, YouTube quota spent today, the early curve (unless early_curve.state_file is set). Empty keeps nothing (see the README).").PlaceHolder("DIR").String()
		lifecycle     = serve.Flag("web.enable-lifecycle", "Enable reload and shutdown via HTTP request (POST or PUT /-/reload, /-/quit), and the landing page's reload button. SIGHUP reloads either way.").Bool()
		shardCount    = serve.Flag("shard.count", "Number of replicas the creators are split between, each run with the same configuration file and its own --shard.index; 1: no sharding. Each replica's share of every collector's rate limit and quota is 1/count (see docs/deployment.md).").Default("1").Int()
		shardIndex    = serve.Flag("shard.index", "This replica's shard, from 0 to --shard.count minus 1, or auto: the ordinal N ending the pod name name-N, as a StatefulSet names its pods, read from $POD_NAME, else the hostname.").Default("0").String()
		refreshPolicy = serve.Flag("refresh.scheduling-policy", "Scheduling policy of each refresh's thread (Linux). other: the normal policy, --refresh.nice steps below the exporter. idle: SCHED_IDLE, a refresh runs only on CPU time nothing else it competes with wants, and a scrape that wakes up takes the CPU from it at once; only for a machine whose CPUs are not kept busy by others, see docs/deployment.md.").Default("other").String()
		refreshNice   = serve.Flag("refresh.nice", "With --refresh.scheduling-policy=other, run each refresh this many nice steps below the exporter, from 0 (the exporter's priority) to 19.").Default(strconv.Itoa(exporter.DefaultRefreshNice)).IsSetByUser(&refreshNiceSet).Int()
		refreshYield  = serve.Flag("refresh.yield-to-scrapes", "Each refresh waits at its checkpoints while a /metrics scrape is being served, at most 20ms at a time and at most three times as long as it runs; --no-refresh.yield-to-scrapes turns this off.").Default("true").Bool()
		webConfig     = kingpinflag.AddFlags(serve, defaultAddress)
		logConfig     = &promslog.Config{}
	)
	reportCmd := app.Command("report", "Write a campaign's checkpoint read from a Prometheus server that scrapes the exporter; see docs/report.md.")
	reportConfig := report.AddFlags(reportCmd)
	checkCmd := app.Command("check", "Validate the configuration file as serve --config.check does; with --online, also check each collector's credential against its provider.")
	var (
		checkFile      = checkCmd.Flag("config.file", "Configuration file.").Default("config.yaml").String()
		checkMax       = checkCmd.Flag("config.max-size", configMaxSizeHelp).Default("16MiB").Bytes()
		checkOnline    = checkCmd.Flag("online", "Call each collector's cheapest authenticated endpoint: reachable, authenticated, account, missing scopes, token expiry, the first configured object not found.").Bool()
		checkCollector = checkCmd.Flag("collector", "With --online, check only the collector of this name.").PlaceHolder("NAME").String()
	)
	promslogflag.AddFlags(app, logConfig)
	app.Version(version.Print(program))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	command, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 2
	}
	logConfig.Writer = stderr
	logger := promslog.New(logConfig)

	if command == reportCmd.FullCommand() {
		if err := report.Run(ctx, reportConfig, stdout, logger); err != nil {
			fmt.Fprintf(stderr, "%s report: %v\n", program, err)
			return 1
		}
		return 0
	}

	if command == checkCmd.FullCommand() {
		exporter.SetMaxConfigSize(int64(*checkMax))
		return check(ctx, *checkFile, *checkOnline, *checkCollector, stdout, stderr, logger)
	}
	exporter.SetMaxConfigSize(int64(*configMax))
	shard, err := exporter.ParseShard(*shardCount, *shardIndex)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 2
	}

	refreshPriority, err := parseRefreshPriority(*refreshPolicy, *refreshNice, refreshNiceSet)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 2
	}

	if *configCheck {
		if _, ok := configOK(*configFile, stdout, stderr); !ok {
			return 1
		}
		return 0
	}

	logger.Info("starting "+program, "version", version.Info(), "build_context", version.BuildContext())

	// The collectors are built with the storage, so it is opened first;
	// a config error is still the one reported when both are wrong.
	runner := exporter.NewRunner(*configFile, logger)
	runner.Shard = shard
	runner.RefreshPriority = refreshPriority
	exporter.YieldToScrapes(*refreshYield)
	logger.Info("refresh scheduling", "priority", refreshPriority.String(), "yield_to_scrapes", *refreshYield)
	storage, storageErr := exporter.OpenStorage(*storagePath, logger.With("component", "storage"))
	runner.Storage = storage
	// The file is read and built once: the sandbox must listen before the
	// first refresh, so it starts between loading the config and running
	// it; reloads never restart it.
	cfg, instances, err := runner.Load()
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		return 1
	}
	if storageErr != nil {
		logger.Error("cannot use --storage.path", "err", storageErr)
		return 1
	}
	if cfg.Sandbox != nil {
		sb, err := startSandbox(cfg.Sandbox, logger.With("component", "sandbox"))
		if err != nil {
			logger.Error("cannot start sandbox", "err", err)
			return 1
		}
		defer sb.Close()
		logger.Info("sandbox campaign running: fake provider APIs on loopback, no credentials used")
	}

	// The series gathered on each scrape, on one goroutine (see
	// exporter.SerialRegistry). The process_ series are client_golang's,
	// read without its garbage (see exporter.NewProcessCollector).
	reg := exporter.NewSerialRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(program),
		collectors.NewGoCollector(),
		exporter.NewProcessCollector(),
	)
	metrics, err := runner.Handler(reg)
	if err != nil {
		logger.Error("register metrics", "err", err)
		return 1
	}
	runner.Start(cfg, instances)
	defer runner.Stop()

	ctx, quit := context.WithCancel(ctx)
	defer quit()
	mux := http.NewServeMux()
	// The snapshots are written as rendered when they were stored: a
	// scrape copies bytes (see exporter.MetricsHandler).
	mux.Handle(*metricsPath, readOnly(metrics))
	mux.Handle("/", readOnly(&exporter.StatusPage{
		Cache: runner.Cache, Version: version.Version, MetricsPath: *metricsPath,
		Links: runner.LinkDetails, Reload: runner.LastReload, PerCreator: runner.PerCreatorCampaigns,
		Lifecycle: *lifecycle,
	}))
	links := &exporter.LinksPage{Inspect: runner.LinkInspectors}
	mux.Handle("/links", readOnly(links))
	mux.Handle("/links/probe", links)
	mux.Handle("/-/healthy", readOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy.")
	})))
	mux.Handle("/-/ready", readOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if runner.Config() == nil {
			http.Error(w, "Not ready: no configuration loaded.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready.")
	})))
	mux.Handle("/-/reload", lifecycleHandler(*lifecycle, func(w http.ResponseWriter) {
		if err := reload(runner, logger); err != nil {
			http.Error(w, fmt.Sprintf("failed to reload config: %v", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Configuration reloaded.")
	}))
	mux.Handle("/-/quit", lifecycleHandler(*lifecycle, func(w http.ResponseWriter) {
		fmt.Fprintln(w, "Requesting termination... Goodbye!")
		logger.Info("shutdown requested over HTTP")
		quit()
	}))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = reload(runner, logger)
			}
		}
	}()

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, webConfig, logger) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server failed", "err", err)
			return 1
		}
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			// Scrapes still running after the grace period are cut.
			_ = srv.Close()
		}
		runner.StopWithin(shutdownGrace)
	}
	return 0
}

// shutdownGrace bounds each step of a shutdown: in-flight requests, then
// in-flight refreshes (their provider calls are cancelled; a collector
// that ignores it is left behind). Both together stay well inside the 30 s
// Kubernetes and systemd give a process after SIGTERM.
const shutdownGrace = 5 * time.Second

// readOnly answers 405 to methods other than GET and HEAD, as Prometheus
// does on its read-only pages: nothing there changes state, and a form
// posted from another site must not look as if it did.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, fmt.Sprintf("Method %s not allowed: this endpoint serves GET and HEAD.", r.Method), http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// lifecycleHandler runs do on POST or PUT when enabled, as Prometheus's
// --web.enable-lifecycle does: a request that changes what the process
// runs is refused (403) unless the operator turned it on, since any page
// the operator's browser visits could send it.
func lifecycleHandler(enabled bool, do func(http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "This endpoint requires a POST or PUT request.", http.StatusMethodNotAllowed)
			return
		}
		if !enabled {
			http.Error(w, "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle, or send SIGHUP to reload.", http.StatusForbidden)
			return
		}
		do(w)
	})
}

// configMaxSizeHelp is the help of --config.max-size, a flag of serve and
// check.
const configMaxSizeHelp = "Largest configuration file read, on start and on each reload; 0: no limit."

// configOK validates the configuration file as --config.check does: it
// prints every error to stderr and returns false, or prints that the file
// is valid and what each collector's refresh will cost, so a refresh that
// cannot finish within its interval is known before it runs.
func configOK(file string, stdout, stderr io.Writer) (*exporter.Config, bool) {
	cfg, instances, err := exporter.Check(file)
	if err != nil {
		fmt.Fprintf(stderr, "%s: configuration is invalid:\n%v\n", program, err)
		return nil, false
	}
	fmt.Fprintf(stdout, "%s: configuration OK: %d collectors, %d campaigns\n", file, len(cfg.Collectors), len(cfg.Campaigns))
	plans := exporter.Plans(instances)
	if len(plans) > 0 {
		fmt.Fprintln(stdout, "Planned API calls per refresh:")
	}
	for _, p := range plans {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	return cfg, true
}

// check is the check command: the configuration check, then, with
// online, one check of each collector's credential against its provider
// (or of the one named only). It returns 1 if anything failed, 2 for a
// usage error. A sandbox block starts the sandbox's fakes first, so the
// sandbox config checks as it runs.
func check(ctx context.Context, file string, online bool, only string, stdout, stderr io.Writer, logger *slog.Logger) int {
	if only != "" && !online {
		fmt.Fprintf(stderr, "%s check: --collector=%s needs --online\n", program, only)
		return 2
	}
	cfg, ok := configOK(file, stdout, stderr)
	if !ok {
		return 1
	}
	if !online {
		return 0
	}
	// Collectors built as serve builds them, with real clients; nothing
	// is scheduled.
	instances, err := exporter.Build(cfg, exporter.Deps{Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "%s: configuration is invalid:\n%v\n", program, err)
		return 1
	}
	if _, err := exporter.SelectOnline(instances, only); err != nil {
		fmt.Fprintf(stderr, "%s check: --collector: %v\n", program, err)
		return 2
	}
	if cfg.Sandbox != nil {
		sb, err := startSandbox(cfg.Sandbox, logger.With("component", "sandbox"))
		if err != nil {
			fmt.Fprintf(stderr, "%s check: cannot start the sandbox: %v\n", program, err)
			return 1
		}
		defer sb.Close()
		fmt.Fprintln(stdout, "Sandbox running: the collectors are checked against its fake provider APIs on loopback.")
	}
	fmt.Fprintln(stdout)
	passed, err := exporter.RunOnline(ctx, cfg, instances, only, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "%s check: %v\n", program, err)
		return 2
	}
	if !passed {
		return 1
	}
	return 0
}

// reload logs the outcome once; the caller decides what the user sees.
func reload(r *exporter.Runner, logger *slog.Logger) error {
	if err := r.Reload(); err != nil {
		logger.Error("reload failed, keeping the running configuration", "err", err)
		return err
	}
	logger.Info("configuration reloaded")
	return nil
}

// parseRefreshPriority turns --refresh.scheduling-policy and --refresh.nice
// into a refresh's priority. A nice value set with the idle policy is an
// error rather than ignored: SCHED_IDLE has no nice steps, and
// --refresh.nice=0 there would not do what it says.
func parseRefreshPriority(policy string, nice int, niceSet bool) (exporter.RefreshPriority, error) {
	if nice < 0 || nice > 19 {
		return exporter.RefreshPriority{}, fmt.Errorf("--refresh.nice must be from 0 to 19, got %d", nice)
	}
	switch policy {
	case "other":
		return exporter.RefreshPriority{Nice: nice}, nil
	case "idle":
		if niceSet {
			return exporter.RefreshPriority{}, fmt.Errorf("--refresh.nice=%d applies only with --refresh.scheduling-policy=other", nice)
		}
		return exporter.RefreshPriority{Idle: true}, nil
	}
	return exporter.RefreshPriority{}, fmt.Errorf("--refresh.scheduling-policy must be other or idle, got %q", policy)
}
