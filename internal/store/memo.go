package store

import (
	"context"
	"sync"
)

// Memo remembers rows a store read during one request, so that a page whose parts each check the same course,
// activity or enrolment reads each row once. The store drops everything it remembers at the request's first
// write, so a read after a write sees the write. It is safe for concurrent use, and lives only as long as the
// request's context.
type Memo struct {
	mu sync.Mutex
	m  map[string]any
}

type memoKey struct{}

// WithMemo gives ctx a fresh memo; the web layer calls it once per request.
func WithMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &Memo{m: map[string]any{}})
}

// MemoFrom returns ctx's memo, or nil (nothing is remembered).
func MemoFrom(ctx context.Context) *Memo {
	m, _ := ctx.Value(memoKey{}).(*Memo)
	return m
}

// Get returns what was remembered under key.
func (m *Memo) Get(key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

// Put remembers v under key.
func (m *Memo) Put(key string, v any) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.m[key] = v
	m.mu.Unlock()
}

// Clear forgets everything.
func (m *Memo) Clear() {
	if m == nil {
		return
	}
	m.mu.Lock()
	clear(m.m)
	m.mu.Unlock()
}
