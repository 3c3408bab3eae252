package plugin

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Apply runs the operations one backend call returned as one plan, on s (a
// default scheduler when nil). The error joins every operation's failure, as
// sched.Scheduler.Run does; the report is complete either way.
func Apply(ctx context.Context, s *sched.Scheduler, ops []sched.Operation) (*sched.Report, error) {
	if len(ops) == 0 {
		return &sched.Report{}, nil
	}
	if s == nil {
		var err error
		if s, err = sched.New(); err != nil {
			return nil, err
		}
	}
	rep, err := s.Run(ctx, sched.NewPlan(ops...))
	if err != nil {
		return rep, fmt.Errorf("plugin: %w", err)
	}
	return rep, nil
}
