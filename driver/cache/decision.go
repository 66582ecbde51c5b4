package cache

// ShouldLookup reports whether the driver computes a fingerprint and looks
// it up, KFP's rule: caching is not disabled for the deployment
// (--cache_disabled=false), the task will run (its condition did not come
// out false), and the task asked for it (cachingOptions.enableCache). Any
// other case leaves cache_fingerprint unset, so nothing is recorded later.
func ShouldLookup(cacheDisabled, triggered, enableCache bool) bool {
	return !cacheDisabled && triggered && enableCache
}

// ShouldRecord reports whether the launcher side writes a cache entry after
// running the task: only on success, and only when the driver stored a
// fingerprint, which it does only after a lookup that missed.
func ShouldRecord(succeeded bool, fingerprint string) bool {
	return succeeded && fingerprint != ""
}
