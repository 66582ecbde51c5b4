package memo

import (
	"fmt"
	"sync"
	"testing"
)

func TestKeepsWhatIsUsedWithinTheBudget(t *testing.T) {
	m := New[string, int](100) // 50 bytes per generation
	for i := range 5 {
		m.Put(fmt.Sprint("k", i), i, 10)
	}
	if v, ok := m.Get("k0"); !ok || v != 0 {
		t.Fatalf("k0 = %v, %v; want 0 kept", v, ok)
	}
	// More than a generation's worth of new entries: the first generation
	// is dropped.
	for i := 5; i < 12; i++ {
		m.Put(fmt.Sprint("k", i), i, 10)
	}
	if v, ok := m.Get("k6"); !ok || v != 6 {
		t.Errorf("k6 = %v, %v; want the previous generation still kept", v, ok)
	}
	if _, ok := m.Get("k1"); ok {
		t.Error("k1, never used again, is still kept after two generations")
	}
	if v, ok := m.Get("k11"); !ok || v != 11 {
		t.Errorf("k11 = %v, %v; want the newest entry kept", v, ok)
	}
	total := 0
	m.mu.Lock()
	for _, g := range []map[string]entry[int]{m.cur, m.prev} {
		for _, e := range g {
			total += e.size
		}
	}
	m.mu.Unlock()
	if total > 100 {
		t.Errorf("%d bytes kept, budget 100", total)
	}
}

func TestTooLargeValuesAreNotKept(t *testing.T) {
	m := New[string, string](100)
	m.Put("big", "x", 51)
	if _, ok := m.Get("big"); ok {
		t.Error("a value over half the budget was kept")
	}
	m.Put("small", "y", 50)
	if v, ok := m.Get("small"); !ok || v != "y" {
		t.Errorf("small = %q, %v", v, ok)
	}
}

func TestConcurrentUse(t *testing.T) {
	m := New[int, int](1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				k := (i * (g + 1)) % 300
				if v, ok := m.Get(k); ok && v != k*2 {
					t.Errorf("key %d has %d", k, v)
					return
				}
				m.Put(k, k*2, 3)
			}
		}()
	}
	wg.Wait()
	if n := m.Len(); n == 0 || n > 1000/3 {
		t.Errorf("%d entries kept", n)
	}
}
