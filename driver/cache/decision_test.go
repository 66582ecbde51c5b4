package cache

import "testing"

func TestShouldLookup(t *testing.T) {
	tests := []struct {
		cacheDisabled, triggered, enableCache bool
		want                                  bool
	}{
		{false, true, true, true},
		{true, true, true, false},   // --cache_disabled wins over the task
		{false, false, true, false}, // condition false: nothing runs, nothing cached
		{false, true, false, false}, // task opted out
		{true, false, true, false},
		{true, true, false, false},
		{false, false, false, false},
		{true, false, false, false},
	}
	for _, tt := range tests {
		if got := ShouldLookup(tt.cacheDisabled, tt.triggered, tt.enableCache); got != tt.want {
			t.Errorf("ShouldLookup(disabled=%v, triggered=%v, enable=%v) = %v, want %v",
				tt.cacheDisabled, tt.triggered, tt.enableCache, got, tt.want)
		}
	}
}

func TestShouldRecord(t *testing.T) {
	tests := []struct {
		succeeded   bool
		fingerprint string
		want        bool
	}{
		{true, "abc", true},
		{false, "abc", false}, // failed runs are never reused
		{true, "", false},     // no lookup happened: caching was off
		{false, "", false},
	}
	for _, tt := range tests {
		if got := ShouldRecord(tt.succeeded, tt.fingerprint); got != tt.want {
			t.Errorf("ShouldRecord(%v, %q) = %v, want %v", tt.succeeded, tt.fingerprint, got, tt.want)
		}
	}
}
