// Package memo keeps the results of costly pure functions of their input
// (decoding a spec, encoding it again) for inputs that repeat, within a
// bound on the bytes kept.
//
// A Map holds two generations: new entries go into the current one, and
// when it has taken half the budget the previous generation is dropped
// and the current one becomes the previous. A hit in the previous
// generation moves the entry forward, so what keeps being used stays, and
// at most the whole budget is ever held.
package memo

import "sync"

// Map is safe for concurrent use. Values are shared between callers, so
// they must be treated as read-only.
type Map[K comparable, V any] struct {
	mu        sync.Mutex
	budget    int // bytes, both generations together
	cur, prev map[K]entry[V]
	curBytes  int
}

type entry[V any] struct {
	v    V
	size int
}

// New is a Map that keeps at most budget bytes, as Put's callers count them.
func New[K comparable, V any](budget int) *Map[K, V] {
	return &Map[K, V]{budget: budget, cur: map[K]entry[V]{}, prev: map[K]entry[V]{}}
}

// Get returns the value kept for k.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.cur[k]; ok {
		return e.v, true
	}
	e, ok := m.prev[k]
	if ok {
		delete(m.prev, k)
		m.put(k, e)
	}
	return e.v, ok
}

// Put keeps v for k, counted as size bytes. A value larger than half the
// budget is not kept.
func (m *Map[K, V]) Put(k K, v V, size int) {
	if size > m.budget/2 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.cur[k]; ok {
		return
	}
	delete(m.prev, k)
	m.put(k, entry[V]{v, size})
}

func (m *Map[K, V]) put(k K, e entry[V]) {
	if m.curBytes+e.size > m.budget/2 {
		m.prev, m.cur, m.curBytes = m.cur, map[K]entry[V]{}, 0
	}
	m.cur[k] = e
	m.curBytes += e.size
}

// Len is how many entries are kept.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cur) + len(m.prev)
}
