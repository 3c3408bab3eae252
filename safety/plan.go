package safety

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Plan is what Begin would do for an intent, computed without writing
// anything: the dry-run answer of a journaled mutation.
type Plan struct {
	Op          string
	Description string
	Target      Identity
	Journal     string         // the journal file the intent would go to
	Images      []PlannedImage // before-images that would be saved
	Overrides   []Override
	// Refused is set when Begin would refuse now (lock-down, pending
	// recovery, a running mutation); the plan is still filled in.
	Refused error
}

// PlannedImage is a before-image Begin would save.
type PlannedImage struct {
	File   string // relative to the state directory; the id part is a placeholder
	Offset int64
	Length int64
}

// Plan validates an intent and describes what Begin would do, without
// touching the target or the journal.
func (j *Journal) Plan(intent Intent) (*Plan, error) {
	if err := intent.validate(); err != nil {
		return nil, err
	}
	p := &Plan{Op: intent.Op, Description: intent.Description, Target: intent.Target,
		Journal: filepath.Join(j.dir, JournalFile), Overrides: intent.Overrides}
	for _, r := range imageRanges(intent.Ranges) {
		p.Images = append(p.Images, PlannedImage{File: filepath.Join("images", "<mutation-id>", ImageName(intent.Target.Path, r.Offset)),
			Offset: r.Offset, Length: r.Length})
	}
	j.mu.Lock()
	p.Refused = j.admitLocked(intent.Target)
	j.mu.Unlock()
	return p, nil
}

// String renders the plan for a person.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dry run: %s on %s", p.Op, p.Target)
	if p.Description != "" {
		fmt.Fprintf(&b, ": %s", p.Description)
	}
	b.WriteString("\n")
	if p.Refused != nil {
		fmt.Fprintf(&b, "  would be REFUSED: %v\n", p.Refused)
	}
	fmt.Fprintf(&b, "  journal intent to %s (fsynced before any write)\n", p.Journal)
	for _, im := range p.Images {
		fmt.Fprintf(&b, "  save before-image of %d bytes at offset %d to %s\n", im.Length, im.Offset, im.File)
	}
	for _, o := range p.Overrides {
		fmt.Fprintf(&b, "  override %s: %s\n", o.Code, o.Reason)
	}
	return b.String()
}
