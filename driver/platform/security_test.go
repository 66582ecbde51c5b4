package platform

import "testing"

func TestSecurityContext(t *testing.T) {
	admin := Options{DefaultRunAsUser: ptr(int64(1000)), DefaultRunAsGroup: ptr(int64(100)), DefaultRunAsNonRoot: ptr(true), DefaultHostUsers: ptr(false)}
	runCases(t, []applyCase{
		{name: "user values", cfg: `{"securityContext": {"runAsUser": "65534", "runAsGroup": 0, "runAsNonRoot": true}}`,
			want: `{"securityContext": {"runAsUser": 65534, "runAsGroup": 0, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}}`,
			sum:  "security context"},
		{name: "admin defaults without user values", cfg: `{}`, opts: admin,
			want: `{"securityContext": {"runAsUser": 1000, "runAsGroup": 100, "runAsNonRoot": true}, "hostUsers": false}`},
		{name: "admin defaults win, with warnings", cfg: `{"securityContext": {"runAsUser": "0", "runAsGroup": "100", "runAsNonRoot": false}}`, opts: admin,
			want: `{"securityContext": {"runAsUser": 1000, "runAsGroup": 100, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}, "hostUsers": false}`,
			sum:  "security context; ignored securityContext.runAsUser=0 (admin default 1000); ignored securityContext.runAsNonRoot=false (admin default true)"},
		{name: "user fills what the admin left open", cfg: `{"securityContext": {"runAsUser": "2000", "runAsGroup": "3000"}}`, opts: Options{DefaultRunAsNonRoot: ptr(true)},
			want: `{"securityContext": {"runAsUser": 2000, "runAsGroup": 3000, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}}`},
		{name: "host users only", cfg: `{}`, opts: Options{DefaultHostUsers: ptr(true)}, want: `{"hostUsers": true}`},
		{name: "root with admin non-root", cfg: `{"securityContext": {"runAsUser": "0"}}`, opts: Options{DefaultRunAsNonRoot: ptr(true)},
			err: "kubernetes_config.securityContext.runAsUser: 0 (root) contradicts runAsNonRoot=true"},
		{name: "root with user non-root", cfg: `{"securityContext": {"runAsUser": "0", "runAsNonRoot": true}}`,
			err: "securityContext.runAsUser: 0 (root) contradicts runAsNonRoot=true"},
		{name: "negative id", cfg: `{"securityContext": {"runAsGroup": "-1"}}`, err: "securityContext.runAsGroup: -1: must be between 0 and 2147483647"},
		{name: "id not a number", cfg: `{"securityContext": {"runAsUser": "root"}}`, err: "securityContext.runAsUser: root is not an integer"},
		{name: "removed proto field privileged", cfg: `{"securityContext": {"privileged": true}}`, err: "securityContext.privileged: unknown field"},
	})
}
