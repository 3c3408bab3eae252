package command

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Fixture is one recorded run, as a recorder writes it and a Replayer
// serves it. In JSON, a byte field is a string when it is valid UTF-8 and
// {"base64": "..."} otherwise; either way it round-trips byte for byte.
type Fixture struct {
	Tool string   `json:"tool"`
	Args []string `json:"args"`
	// Seq numbers the repeats of one tool+args within a recording, from 1.
	// A Replayer serves repeats in Seq order; 0 (hand-written fixtures)
	// sorts first, in the order given.
	Seq int `json:"seq,omitempty"`
	// Env is LC_ALL=C followed by the caller's extra variables.
	Env []string `json:"env,omitempty"`
	// StdinSHA256 is the hex SHA-256 of a non-empty Stdin; Stdin itself is
	// kept when it is at most maxRecordedStdin bytes.
	StdinSHA256     string `json:"stdin_sha256,omitempty"`
	Stdin           Blob   `json:"stdin,omitempty"`
	Stdout          Blob   `json:"stdout"`
	Stderr          Blob   `json:"stderr"`
	StderrTruncated bool   `json:"stderr_truncated,omitempty"`
	FD3             Blob   `json:"fd3,omitempty"`
	Code            int    `json:"code"`
	Signal          string `json:"signal,omitempty"`
	// Missing records that the tool was not installed; Package is the
	// Debian package the *ToolMissingError named.
	Missing bool   `json:"missing,omitempty"`
	Package string `json:"package,omitempty"`

	// File is where the fixture was read from (not stored).
	File string `json:"-"`
}

const maxRecordedStdin = 64 << 10

// Blob is bytes stored in JSON as text when valid UTF-8, else as base64.
type Blob []byte

func (b Blob) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(string(b)); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	return json.Marshal(struct {
		Base64 []byte `json:"base64"`
	}{b})
}

func (b *Blob) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*b = nil
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*b = Blob(s)
		return nil
	}
	var o struct {
		Base64 *[]byte `json:"base64"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("bytes: want a string or {\"base64\": ...}: %w", err)
	}
	if o.Base64 == nil {
		return errors.New(`bytes: {"base64": ...} without base64`)
	}
	*b = *o.Base64
	return nil
}

// newFixture fills in what identifies a command.
func newFixture(c Cmd) *Fixture {
	f := &Fixture{Tool: c.Tool, Args: append([]string{}, c.Args...), Env: recordedEnv(c)}
	if len(c.Stdin) > 0 {
		f.StdinSHA256 = stdinHash(c.Stdin)
		if len(c.Stdin) <= maxRecordedStdin {
			f.Stdin = append(Blob(nil), c.Stdin...)
		}
	}
	return f
}

func stdinHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// argvKey identifies a command line exactly.
func argvKey(tool string, args []string) string {
	return tool + "\x00" + strings.Join(args, "\x00")
}

// FixtureName is the file name a recorder gives the seq-th run of tool with
// args: a readable, sanitised prefix of the command line, a hash of the
// exact argv (so distinct commands never share a name), and the sequence
// number: for example "e2fsck_-n_-f_disk.img-3f1c2a9b-001.json".
func FixtureName(tool string, args []string, seq int) string {
	var b strings.Builder
	under := false
	for _, r := range commandLine(filepath.Base(tool), args) {
		ok := r < utf8.RuneSelf && (r == '.' || r == '-' || r == '+' || r == ',' ||
			'0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
		if !ok {
			if !under {
				b.WriteByte('_')
			}
			under = true
			continue
		}
		under = false
		b.WriteRune(r)
		if b.Len() >= 64 {
			break
		}
	}
	prefix := strings.Trim(b.String(), "_.")
	if prefix == "" {
		prefix = "cmd"
	}
	sum := sha256.Sum256([]byte(argvKey(tool, args)))
	return fmt.Sprintf("%s-%s-%03d.json", prefix, hex.EncodeToString(sum[:4]), seq)
}

// WriteFixture writes f as indented JSON to path.
func WriteFixture(path string, f *Fixture) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadFixture reads one fixture file; unknown fields are an error, so a
// misspelt hand-written fixture does not silently replay as empty output.
func ReadFixture(path string) (Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Fixture{}, err
	}
	var f Fixture
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Fixture{}, fmt.Errorf("command: fixture %s: %w", path, err)
	}
	if f.Tool == "" {
		return Fixture{}, fmt.Errorf("command: fixture %s: no tool", path)
	}
	f.File = path
	return f, nil
}

// LoadFixtures reads every *.json file in dir, in name order.
func LoadFixtures(dir string) ([]Fixture, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("command: fixtures: %w", err)
		}
	}
	sort.Strings(paths)
	fs := make([]Fixture, 0, len(paths))
	for _, p := range paths {
		f, err := ReadFixture(p)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// recorder writes fixtures into one directory. Recorders are shared per
// directory within a process so repeated commands get distinct numbers even
// when several Execs record into the same place.
type recorder struct {
	dir string
	mu  sync.Mutex
	seq map[string]int
}

var recorders = struct {
	sync.Mutex
	m map[string]*recorder
}{m: map[string]*recorder{}}

func openRecorder(dir string) (*recorder, error) {
	if dir == "" {
		return nil, errors.New("empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	recorders.Lock()
	defer recorders.Unlock()
	r := recorders.m[abs]
	if r == nil {
		r = &recorder{dir: abs, seq: map[string]int{}}
		recorders.m[abs] = r
	}
	return r, nil
}

func (r *recorder) record(f *Fixture) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := argvKey(f.Tool, f.Args)
	r.seq[k]++
	f.Seq = r.seq[k]
	p := filepath.Join(r.dir, FixtureName(f.Tool, f.Args, f.Seq))
	if err := WriteFixture(p, f); err != nil {
		return fmt.Errorf("command: recording %s: %w", commandLine(f.Tool, f.Args), err)
	}
	f.File = p
	return nil
}
