package safety

import (
	"fmt"
	"strings"
)

// Op is the kind of operation a preflight is for; it decides which facts refuse.
type Op string

const (
	OpFormat    Op = "format"    // write a new filesystem or signature: needs a positively empty device
	OpPartition Op = "partition" // write a new partition table: needs a positively empty device
	OpResize    Op = "resize"    // change the size of what is there: needs it unused, not empty
	OpWipe      Op = "wipe"      // erase signatures: needs it unused, emptiness is not required
	// OpOnline changes a mounted filesystem in place (an online grow, a
	// label set by ioctl): the mount and the kernel's hold on the device are
	// expected, everything else refuses as for a resize (locked down,
	// pending recovery, protected, read-only, a member of LVM or md, and the
	// caller's checks).
	OpOnline Op = "online"
)

// Valid reports whether op is one of the known kinds.
func (o Op) Valid() bool {
	switch o {
	case OpFormat, OpPartition, OpResize, OpWipe, OpOnline:
		return true
	}
	return false
}

// Reason is one refusal (or, when Overridden, one refusal let through).
type Reason struct {
	Code       Code     `json:"code"`
	Message    string   `json:"message"`            // one human sentence
	Evidence   []string `json:"evidence,omitempty"` // the mount, holder, signature... that proves it
	Overridden bool     `json:"overridden,omitempty"`
	Override   string   `json:"override,omitempty"` // the operator's reason when overridden
}

// Report is the answer of a preflight check.
type Report struct {
	Target  string   `json:"target"`
	Op      Op       `json:"op"`
	Allowed bool     `json:"allowed"`
	Reasons []Reason `json:"reasons"` // refusals first in the order the checks ran
	// Notes are facts worth telling that do not refuse (a signature that a
	// wipe will remove, an override that was applied).
	Notes []string `json:"notes,omitempty"`
	// Facts are what the decision was made from.
	Facts *Facts `json:"facts,omitempty"`
}

// Has reports whether the report carries code (overridden or not).
func (r *Report) Has(c Code) bool {
	for _, x := range r.Reasons {
		if x.Code == c {
			return true
		}
	}
	return false
}

// Codes lists the codes that still refuse (not overridden).
func (r *Report) Codes() []Code {
	var out []Code
	for _, x := range r.Reasons {
		if !x.Overridden {
			out = append(out, x.Code)
		}
	}
	return out
}

// Err is nil when allowed, else a *RefusedError (errors.Is ErrUnsafe).
func (r *Report) Err() error {
	if r.Allowed {
		return nil
	}
	return &RefusedError{Report: r}
}

// Summary is a one-line rendering: "allowed" or the refusing codes.
func (r *Report) Summary() string {
	if r.Allowed {
		return fmt.Sprintf("%s on %s allowed", r.Op, r.Target)
	}
	var cs []string
	for _, c := range r.Codes() {
		cs = append(cs, string(c))
	}
	return fmt.Sprintf("%s on %s refused: %s", r.Op, r.Target, strings.Join(cs, ", "))
}

// String renders the whole report for a person.
func (r *Report) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteString("\n")
	for _, x := range r.Reasons {
		state := "REFUSED"
		if x.Overridden {
			state = "overridden (" + x.Override + ")"
		}
		fmt.Fprintf(&b, "  %-16s %s: %s\n", x.Code, state, x.Message)
		for _, e := range x.Evidence {
			fmt.Fprintf(&b, "  %-16s   %s\n", "", e)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}
