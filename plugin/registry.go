package plugin

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Registry holds backends by name. The zero value is not usable; call
// NewRegistry. It is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	backends map[string]Backend
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{backends: map[string]Backend{}} }

// Register adds b under b.Name(). A second backend of the same name is an
// error (ErrExists); nothing about the machine is checked here.
func (r *Registry) Register(b Backend) error {
	if b == nil || b.Name() == "" {
		return &InvalidError{Field: "backend", Value: "", Reason: "nil or unnamed"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.backends[b.Name()]; ok {
		return fmt.Errorf("backend %q: %w", b.Name(), ErrExists)
	}
	r.backends[b.Name()] = b
	return nil
}

// Lookup returns the backend registered as name, or ErrNotFound.
func (r *Registry) Lookup(name string) (Backend, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.backends[name]
	if !ok {
		return nil, fmt.Errorf("backend %q: %w", name, ErrNotFound)
	}
	return b, nil
}

// Names lists the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.backends))
	for n := range r.backends {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BackendReport is what one backend can do here.
type BackendReport struct {
	Name         string       `json:"name"`
	Capabilities Capabilities `json:"capabilities,omitempty"`
	// Error is set when the backend could not even answer.
	Error string `json:"error,omitempty"`
}

// Report asks every backend for its capabilities, concurrently, and returns
// the answers sorted by name. A backend that fails to answer is listed with
// its error, never left out.
func (r *Registry) Report(ctx context.Context) []BackendReport {
	names := r.Names()
	out := make([]BackendReport, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		b, err := r.Lookup(n)
		out[i].Name = n
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		wg.Add(1)
		go func(i int, b Backend) {
			defer wg.Done()
			caps, err := b.Capabilities(ctx)
			out[i].Capabilities = caps
			if err != nil {
				out[i].Error = err.Error()
			}
		}(i, b)
	}
	wg.Wait()
	return out
}
