package layers

import (
	_ "pinpoint/internal/ai"              // AI gateway handler, usage tables, admin usage endpoint.
	_ "pinpoint/internal/alerts"          // alert rules and webhooks.
	_ "pinpoint/internal/calllog"         // call-log tables.
	_ "pinpoint/internal/calllog/logapi"  // logs, stats, shadow, simulate endpoints; retention.
	_ "pinpoint/internal/identity"        // consumers, keys, subscriptions; admin API.
	_ "pinpoint/internal/layer/authn"     // API keys, JWT, introspection, Basic.
	_ "pinpoint/internal/layer/authz"     // scopes, roles, CEL policies.
	_ "pinpoint/internal/layer/consumer"  // suspension, tenants, subscriptions.
	_ "pinpoint/internal/layer/cors"      // CORS preflights and origins.
	_ "pinpoint/internal/layer/csrf"      // cross-site request refusal, CSRF tokens.
	_ "pinpoint/internal/layer/ipfilter"  // client address allow/deny lists.
	_ "pinpoint/internal/layer/ratelimit" // rates and quotas, memory or Redis.
	_ "pinpoint/internal/layer/request"   // size, content type, JSON.
	_ "pinpoint/internal/layer/waf"       // OWASP CRS via Coraza, with the @rx prefilter.
	_ "pinpoint/internal/metrics"         // /metrics.
	_ "pinpoint/internal/otel"            // OpenTelemetry spans over OTLP/HTTP.
)
