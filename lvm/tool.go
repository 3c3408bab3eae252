package lvm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// Tool runs lvm2's one binary, `lvm`, through a command.Runner. It is
// safe for concurrent use; it holds only its configuration and the lvm
// version it detected.
type Tool struct {
	r            command.Runner
	systemDir    string
	devices      []string
	driverLoaded bool
	udev         bool
	format       string // "json" or "json_std"; "" means detect

	once    sync.Once
	version string
	verErr  error
}

// Option configures a Tool.
type Option func(*Tool) error

// WithSystemDir sets LVM_SYSTEM_DIR, the directory of lvm.conf: tests use
// a private one so they never see the machine's own VGs.
func WithSystemDir(dir string) Option {
	return func(t *Tool) error {
		if dir == "" {
			return errors.New("lvm: empty system dir")
		}
		t.systemDir = dir
		return nil
	}
}

// WithDevices scopes every command to these devices (lvm's --devices),
// so lvm reads nothing else.
func WithDevices(devs ...string) Option {
	return func(t *Tool) error {
		for _, d := range devs {
			if d == "" || strings.Contains(d, ",") {
				return fmt.Errorf("lvm: device %q cannot be passed to --devices", d)
			}
		}
		t.devices = append([]string(nil), devs...)
		return nil
	}
}

// WithoutDeviceMapper passes --driverloaded n: metadata only, for
// kernels without device-mapper (the host test machines).
func WithoutDeviceMapper() Option {
	return func(t *Tool) error { t.driverLoaded = false; return nil }
}

// WithUdev says udev runs, so lvm may wait for it. Without (the default,
// as in containers and on these machines) activation does not sync with
// udev, so nothing hangs waiting for a daemon that is not there.
func WithUdev(on bool) Option { return func(t *Tool) error { t.udev = on; return nil } }

// WithReportFormat fixes the report format ("json" or "json_std") instead
// of detecting it from `lvm version` (json_std needs 2.03.17).
func WithReportFormat(f string) Option {
	return func(t *Tool) error {
		if f != "json" && f != "json_std" {
			return fmt.Errorf("lvm: report format %q: want json or json_std", f)
		}
		t.format = f
		return nil
	}
}

// NewTool returns a Tool running lvm through r.
func NewTool(r command.Runner, opts ...Option) (*Tool, error) {
	if r == nil {
		return nil, errors.New("lvm: nil runner")
	}
	t := &Tool{r: r, driverLoaded: true}
	for _, o := range opts {
		if err := o(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// config is the one merged --config string (lvm refuses a second one).
// report_command_log puts errors into the JSON "log" array, which is where
// lvm 2.03.26+ puts them instead of stderr.
func (t *Tool) config() string {
	c := `log{report_command_log=1 command_log_selection="all"} global{notify_dbus=0}`
	if !t.udev {
		c += ` activation{udev_sync=0 udev_rules=0}`
	}
	return c
}

func (t *Tool) env() []string {
	env := []string{"LVM_SUPPRESS_FD_WARNINGS=1"}
	if t.systemDir != "" {
		env = append(env, "LVM_SYSTEM_DIR="+t.systemDir)
	}
	return env
}

// argv is one lvm command: the subcommand, the scope and config every
// command carries, then the caller's arguments.
func (t *Tool) argv(sub string, args ...string) []string {
	a := []string{sub}
	if len(t.devices) > 0 {
		a = append(a, "--devices", strings.Join(t.devices, ","))
	}
	if !t.driverLoaded {
		a = append(a, "--driverloaded", "n")
	}
	a = append(a, "--config", t.config())
	return append(a, args...)
}

var versionRE = regexp.MustCompile(`LVM version:\s*(\d+)\.(\d+)\.(\d+)`)

// reportFormat is json_std where lvm has it (2.03.17+), json otherwise.
func (t *Tool) reportFormat(ctx context.Context) (string, error) {
	if t.format != "" {
		return t.format, nil
	}
	t.once.Do(func() {
		res, err := t.r.Run(ctx, command.Cmd{Tool: "lvm", Args: []string{"version"}, Env: t.env()})
		if res != nil {
			if m := versionRE.FindStringSubmatch(string(res.Stdout)); m != nil {
				t.version = m[1] + "." + m[2] + "." + m[3]
				return
			}
		}
		if err == nil {
			err = malformed("lvm version output", 0, "no version line")
		}
		t.verErr = err
	})
	if t.verErr != nil {
		return "", t.verErr
	}
	return formatFor(t.version), nil
}

func formatFor(version string) string {
	var v [3]int
	for i, p := range strings.SplitN(version, ".", 3) {
		v[i], _ = strconv.Atoi(p)
	}
	if v[0] > 2 || v[0] == 2 && (v[1] > 3 || v[1] == 3 && v[2] >= 17) {
		return "json_std"
	}
	return "json"
}

// report runs a reporting command and parses its JSON. lvm exits 5 when
// any object failed and may still print valid rows, so the rows are
// returned with the *Error.
func (t *Tool) report(ctx context.Context, sub string, args ...string) (*jsonReport, error) {
	f, err := t.reportFormat(ctx)
	if err != nil {
		return nil, err
	}
	argv := t.argv(sub, append([]string{"--reportformat", f, "--units", "b", "--nosuffix"}, args...)...)
	res, runErr := t.r.Run(ctx, command.Cmd{Tool: "lvm", Args: argv, Env: t.env()})
	if res == nil {
		return nil, runErr
	}
	rep, perr := parseJSONReport(res.Stdout)
	if runErr != nil {
		return rep, t.lvmError(argv, res, rep, runErr)
	}
	if perr != nil {
		return nil, perr
	}
	return rep, nil
}

// lvmError builds the typed error from the JSON log and stderr.
func (t *Tool) lvmError(argv []string, res *command.Result, rep *jsonReport, err error) error {
	var ee *command.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	var msgs []string
	if rep != nil {
		for _, l := range rep.Log {
			if l["log_type"] == "error" {
				msgs = append(msgs, l["log_message"])
			}
		}
	}
	for _, line := range strings.Split(string(res.Stderr), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "WARNING:") || strings.Contains(line, "/dev/mapper/control") ||
			strings.Contains(line, "device-mapper") || strings.HasPrefix(line, "Incompatible libdevmapper") {
			continue
		}
		dup := false
		for _, m := range msgs {
			dup = dup || m == line
		}
		if !dup {
			msgs = append(msgs, line)
		}
	}
	return &Error{Args: argv, Code: ee.Code, Messages: msgs, Kind: classify(msgs), Err: err}
}

// Run runs a mutating lvm command (sub and its arguments) with the scope
// and configuration every command carries. Its errors are typed like a
// report's: lvm's log array (asked for with --reportformat json) and stderr.
func (t *Tool) Run(ctx context.Context, sub string, args ...string) error {
	if takesReportFormat(sub, args) {
		args = append([]string{"--reportformat", "json"}, args...)
	}
	argv := t.argv(sub, args...)
	res, err := t.r.Run(ctx, command.Cmd{Tool: "lvm", Args: argv, Env: t.env()})
	if err == nil {
		return nil
	}
	if res == nil {
		return err
	}
	rep, _ := parseJSONReport(res.Stdout)
	return t.lvmError(argv, res, rep, err)
}

// takesReportFormat: the commands known to accept --reportformat (the
// tests run each); vgcfgrestore and lvconvert refuse it, and lvcreate
// refuses it for snapshots and thin pools (so it gets it only without
// --type, i.e. linear and striped). Their errors come from stderr.
func takesReportFormat(sub string, args []string) bool {
	switch sub {
	case "pvcreate", "pvresize", "pvremove", "vgcreate", "vgextend", "vgreduce", "vgrename", "vgremove", "vgcfgbackup",
		"lvresize", "lvrename", "lvremove", "lvchange":
		return true
	case "lvcreate":
		for _, a := range args {
			if a == "-s" || a == "--snapshot" || a == "--type" || a == "-T" || a == "-V" {
				return false
			}
		}
		return true
	}
	return false
}

// DeviceMapper reports whether the Tool runs lvm with device-mapper (false
// after WithoutDeviceMapper: metadata only, nothing activated).
func (t *Tool) DeviceMapper() bool { return t.driverLoaded }
