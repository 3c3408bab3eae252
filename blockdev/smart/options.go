package smart

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// DefaultCommandTimeout bounds each command sent to a drive. SMART commands
// answer in milliseconds on a healthy drive; a drive that takes longer is
// already news.
const DefaultCommandTimeout = 10 * time.Second

// Option configures Read and StartSelfTest.
type Option func(*config) error

type config struct {
	root     sysfs.Root
	protocol Protocol
	timeout  time.Duration
	logger   *slog.Logger
	logs     bool
}

func newConfig(opts []Option) (*config, error) {
	c := &config{timeout: DefaultCommandTimeout, logs: true}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// WithRoot reads sysfs and device nodes under dir instead of "/" (a fake
// tree in tests, a host root from a container).
func WithRoot(dir string) Option {
	return func(c *config) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidOption, err)
		}
		c.root = r
		return nil
	}
}

// WithProtocol forces the protocol instead of detecting it, like
// smartctl's -d sat, -d nvme and -d scsi (ProtocolAuto restores detection).
func WithProtocol(p Protocol) Option {
	return func(c *config) error {
		if p < ProtocolAuto || p > ProtocolSCSI {
			return fmt.Errorf("%w: protocol %d", ErrInvalidOption, int(p))
		}
		c.protocol = p
		return nil
	}
}

// WithCommandTimeout sets the timeout of each command (default
// DefaultCommandTimeout); the context's deadline, when sooner, wins.
func WithCommandTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Millisecond || d > time.Hour {
			return fmt.Errorf("%w: command timeout %v outside 1ms..1h", ErrInvalidOption, d)
		}
		c.timeout = d
		return nil
	}
}

// WithLogger logs each command at debug level. nil discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithLogs chooses whether Read also fetches the ATA self-test and error
// logs and the NVMe error log (default true).
func WithLogs(on bool) Option {
	return func(c *config) error {
		c.logs = on
		return nil
	}
}
