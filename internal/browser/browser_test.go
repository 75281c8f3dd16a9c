package browser

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

func TestMain(m *testing.M) { promprog.Main(m) }

// lines collects what the package says, and what promprog shows for it
// (its lock's lines), safe for concurrent writers.
type lines struct{ exportertest.SyncBuffer }

func (l *lines) say(format string, args ...any) {
	fmt.Fprintf(&l.SyncBuffer, "browser: "+format+"\n", args...)
}

// fakeApt points the package at a machine without chromium, as root, whose
// apt-get runs script (sh) with apt-get's arguments. The script finds
// $BIN (where chromium installs) and $LOG (a file it may append to) in its
// environment. It returns what the package says, and the log file.
func fakeApt(t *testing.T, script string) (out *lines, bin, log string) {
	t.Helper()
	dir := t.TempDir()
	out = &lines{}
	bin, log = filepath.Join(dir, "usr", "bin", "chromium"), filepath.Join(dir, "apt.log")
	old := []any{systemBin, lookPath, aptGet, isRoot, lockDir, say, during}
	systemBin = bin
	lookPath = func(name string) (string, error) {
		if name == "apt-get" {
			return "/usr/bin/apt-get", nil
		}
		return "", exec.ErrNotFound
	}
	aptGet = func(args ...string) *exec.Cmd {
		cmd := exec.Command("sh", append([]string{"-c", script, "apt-get"}, args...)...)
		return cmd
	}
	isRoot = func() bool { return true }
	lockDir = func() (string, error) { return dir, nil }
	say = out.say
	during = func(_ string, f func() error) error { return f() }
	restore := promprog.SetOutput(out)
	t.Setenv(Env, "")
	t.Setenv("BIN", bin)
	t.Setenv("LOG", log)
	t.Cleanup(func() {
		systemBin = old[0].(string)
		lookPath = old[1].(func(string) (string, error))
		aptGet = old[2].(func(...string) *exec.Cmd)
		isRoot = old[3].(func() bool)
		lockDir = old[4].(func() (string, error))
		say = old[5].(func(string, ...any))
		during = old[6].(func(string, func() error) error)
		restore()
	})
	return out, bin, log
}

// installs is a fake apt-get that logs its arguments and installs an
// executable chromium.
const installs = `echo "$@" >>"$LOG"
case "$*" in *" install "*) mkdir -p "$(dirname "$BIN")" && printf '#!/bin/sh\n' >"$BIN" && chmod +x "$BIN";; esac`

func readLog(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// Test processes starting side by side install the browser once: the
// others wait on the lock and find it installed.
func TestInstallsOnce(t *testing.T) {
	out, bin, log := fakeApt(t, installs)
	var wg sync.WaitGroup
	paths := make([]string, 4)
	errs := make([]error, 4)
	for i := range paths {
		wg.Go(func() { paths[i], errs[i] = find() })
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil || paths[i] != bin {
			t.Errorf("find %d = %q, %v; want %s", i, paths[i], errs[i], bin)
		}
	}
	if got, want := readLog(t, log), "-o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium\n"; got != want {
		t.Errorf("apt-get ran:\n%s\nwant once:\n%s", got, want)
	}
	text := out.String()
	for _, want := range []string{
		"browser: installing Debian's chromium for the landing page test (needs Debian's package mirror): `apt-get install -y --no-install-recommends chromium`",
		"browser: installed Debian's chromium in ",
		"s: " + bin + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	// Installed: found without a word or a call to apt-get.
	before := out.String()
	if p, err := find(); err != nil || p != bin {
		t.Errorf("find = %q, %v", p, err)
	}
	if out.String() != before || strings.Count(readLog(t, log), "\n") != 1 {
		t.Errorf("an installed browser was installed again:\n%s", strings.TrimPrefix(out.String(), before))
	}
}

// A machine whose package lists do not know chromium yet updates them and
// installs again.
func TestInstallUpdatesPackageLists(t *testing.T) {
	out, bin, log := fakeApt(t, `echo "$@" >>"$LOG"
case "$*" in
*" update") touch "$LOG.updated";;
*" install "*)
	if [ ! -e "$LOG.updated" ]; then echo 'E: Unable to locate package chromium' >&2; exit 100; fi
	mkdir -p "$(dirname "$BIN")" && printf '#!/bin/sh\n' >"$BIN" && chmod +x "$BIN";;
esac`)
	if p, err := find(); err != nil || p != bin {
		t.Fatalf("find = %q, %v", p, err)
	}
	want := "-o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium\n" +
		"-o DPkg::Lock::Timeout=300 update\n" +
		"-o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium\n"
	if got := readLog(t, log); got != want {
		t.Errorf("apt-get ran:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(out.String(), "browser: apt-get has no usable package list for chromium: running `apt-get update` (needs Debian's package mirror)\n") {
		t.Errorf("no line for the update:\n%s", out)
	}
}

func TestInstallFails(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		root         bool
		wantErr      string
		wantSaid     string
		wantApt      string
	}{
		{
			name:    "not root",
			script:  installs,
			wantErr: "Debian's chromium is not installed, and installing it takes root",
		},
		{
			name:     "mirror unreachable",
			script:   `echo "$@" >>"$LOG"; echo 'E: Failed to fetch http://mirror/chromium.deb  Could not connect' >&2; exit 100`,
			root:     true,
			wantErr:  "apt-get update: exit status 100\nE: Failed to fetch http://mirror/chromium.deb  Could not connect",
			wantSaid: "s: apt-get update: exit status 100 ... E: Failed to fetch http://mirror/chromium.deb  Could not connect\n",
			wantApt:  "-o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium\n-o DPkg::Lock::Timeout=300 update\n",
		},
		{
			name:     "dpkg error",
			script:   `echo "$@" >>"$LOG"; echo 'E: Sub-process /usr/bin/dpkg returned an error code (1)' >&2; exit 100`,
			root:     true,
			wantErr:  "apt-get install chromium: exit status 100\nE: Sub-process /usr/bin/dpkg returned an error code (1)",
			wantSaid: "s: apt-get install chromium: exit status 100 ... E: Sub-process /usr/bin/dpkg returned an error code (1)\n",
			wantApt:  "-o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, log := fakeApt(t, tc.script)
			isRoot = func() bool { return tc.root }
			_, err := find()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.wantSaid != "" && (!strings.HasSuffix(out.String(), tc.wantSaid) || !strings.Contains(out.String(), "browser: installing chromium failed after ")) {
				t.Errorf("output ends without %q:\n%s", tc.wantSaid, out)
			}
			if got := readLog(t, log); got != tc.wantApt {
				t.Errorf("apt-get ran:\n%s\nwant:\n%s", got, tc.wantApt)
			}
		})
	}
}

func TestEnvOverride(t *testing.T) {
	_, _, log := fakeApt(t, installs)
	mine := filepath.Join(t.TempDir(), "chrome")
	if err := os.WriteFile(mine, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lookPath = exec.LookPath
	t.Setenv(Env, mine)
	if p, err := find(); err != nil || p != mine {
		t.Errorf("find = %q, %v; want %s", p, err, mine)
	}
	t.Setenv(Env, filepath.Join(t.TempDir(), "none"))
	if _, err := find(); err == nil || !strings.HasPrefix(err.Error(), "$CHROMIUM: ") {
		t.Errorf("err = %v, want one naming $CHROMIUM", err)
	}
	if got := readLog(t, log); got != "" {
		t.Errorf("apt-get ran although $CHROMIUM was set:\n%s", got)
	}
}

func TestParse(t *testing.T) {
	// As Chromium serializes a DOM: void elements unclosed, every other
	// element closed, entities for markup characters.
	dom := `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>t</title><style>a > b { color: red; }</style></head>
<body><h1>influencer_exporter</h1>
<section id="attention"><h2>Needs attention</h2><table><tbody>
<tr><td>spring</td><td>chloe</td><td><a href="links#link-shortio-short.gy_chloe">short.gy/chloe</a></td><td>HTTP 404 &lt;body&gt; &amp; more&nbsp;x</td></tr>
</tbody></table><br><p>see <a href="#collectors">the collectors</a>.</p></section>
<h2 id="collectors">Collectors</h2><img src="x.png"><table id="c"><tr><td>linkprobe</td></tr></table>
</body></html>`
	doc, err := Parse(dom)
	if err != nil {
		t.Fatal(err)
	}
	att, col := doc.ByID("attention"), doc.ByID("collectors")
	if att == nil || col == nil {
		t.Fatalf("attention %v, collectors %v", att, col)
	}
	if att.Pos >= col.Pos {
		t.Errorf("attention at %d, collectors at %d", att.Pos, col.Pos)
	}
	links := att.All("a")
	if len(links) != 2 || links[0].Attr("href") != "links#link-shortio-short.gy_chloe" || links[1].Attr("href") != "#collectors" {
		t.Errorf("links = %+v", links)
	}
	rows := att.All("tr")
	if len(rows) != 1 || !rows[0].Contains(links[0]) || att.Contains(col) || !doc.Contains(col) {
		t.Errorf("rows %+v, Contains wrong", rows)
	}
	if got, want := rows[0].Text(), "spring chloe short.gy/chloe HTTP 404 <body> & more x"; got != want {
		t.Errorf("row text = %q, want %q", got, want)
	}
	if got, want := att.All("p")[0].Text(), "see the collectors."; got != want {
		t.Errorf("paragraph text = %q, want %q", got, want)
	}
	if doc.ByID("c") == nil || doc.ByID("c").All("td")[0].Text() != "linkprobe" {
		t.Error("elements after a void element are lost")
	}
}

// TestHeadless runs the real browser, installing it if needed: the DOM is
// the page after its script ran, and the screenshot a PNG.
func TestHeadless(t *testing.T) {
	bin := Path(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>t</title></head><body><p id="x">from the server</p>`+
			`<script>document.getElementById("x").textContent = "from the script";</script></body></html>`)
	}))
	defer srv.Close()

	dom, err := DumpDOM(context.Background(), bin, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(dom)
	if err != nil {
		t.Fatal(err)
	}
	if p := doc.ByID("x"); p == nil || p.Text() != "from the script" {
		t.Errorf("DOM is not the page after its script ran:\n%s", dom)
	}

	file := filepath.Join(t.TempDir(), "page.png")
	if err := Screenshot(context.Background(), bin, srv.URL+"/", file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG: % x", b[:min(len(b), 8)])
	}
}
