// Package alerts watches the stream of finished requests for the patterns
// that mean "something is being denied that should not be" and tells
// people: webhooks (JSON, HMAC-SHA256 signed, retried with backoff) and
// the log. Rules are evaluated from in-memory sliding windows fed by the
// gateway's observer hook, so a rule costs a few counter increments per
// request and no store query.
//
//	alerts:
//	  renotify: 1h                 # repeat a still-firing alert this often (0: never)
//	  webhooks:
//	    ops: {url: "https://hooks.example.com/pinpoint", secret: "${ALERT_SECRET}", timeout: 5s, retries: 3, backoff: 1s}
//	  rules:
//	    - id: checkout-403-rate
//	      kind: rate               # share of requests that match
//	      where: {route: checkout} # which requests count at all
//	      match: {status: "403"}   # which of them are bad
//	      threshold: 5%            # fires above this share…
//	      min_requests: 50         # …with at least this many requests
//	      window: 5m
//	    - id: expired-keys
//	      kind: count              # number of matching requests
//	      match: {code: key_expired}
//	      group_by: consumer       # one alert per consumer
//	      threshold: 100           # fires above this count
//	      window: 10m
//	    - id: waf-new-range
//	      kind: new_range          # a match from an address range not seen matching before
//	      match: {code: waf_blocked}
//	      prefix_v4: 24            # range size (prefix_v6 defaults to 48)
//	      remember: 24h            # how long a range stays known
//	      window: 10m              # resolves after this long without matches
//	      webhooks: [ops]          # default: every webhook
//
// A rule fires once per group and stays quiet until it resolves (or the
// renotify interval passes); resolving sends a "resolved" notification.
package alerts
