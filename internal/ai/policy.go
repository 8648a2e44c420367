package ai

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"pinpoint/internal/ai/usage"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// bound is a policy applied to one subject: "consumer:<id>", "key:<id>",
// "policy:<name>" or "anonymous". Budgets and limits are counted per
// subject.
type bound struct {
	policy  *Policy
	subject string
	// label names the subject for the caller ("consumer acme").
	label string
	// rule is the config path of the policy, for the trace.
	rule string
}

// policiesFor finds the policies that apply to a caller: the key's own
// policy (if any) and the consumer's (its own entry, or "default"). Both
// must allow a call. routePolicy names the policy for callers without an
// identity, from the route's handler config.
func (g *Gateway) policiesFor(id *pipeline.Identity, routePolicy string) []bound {
	var out []bound
	if id == nil || (id.ConsumerID == "" && id.KeyID == "") {
		name := routePolicy
		if name == "" {
			name = "default"
		}
		if p := g.consumers[name]; p != nil {
			subject := "anonymous"
			if routePolicy != "" {
				subject = "policy:" + routePolicy
			}
			out = append(out, bound{policy: p, subject: subject, label: "anonymous caller", rule: "ai.consumers." + name})
		}
		return out
	}
	if id.KeyID != "" {
		if p := g.keys[id.KeyID]; p != nil {
			out = append(out, bound{policy: p, subject: "key:" + id.KeyID, label: "key " + strconv.Quote(id.KeyID), rule: "ai.keys." + id.KeyID})
		}
	}
	who := id.ConsumerID
	if who == "" {
		who = "key:" + id.KeyID
	}
	label := "consumer " + strconv.Quote(firstNonEmpty(id.ConsumerName, id.ConsumerID, id.KeyID))
	for _, name := range []string{id.ConsumerID, id.ConsumerName, "default"} {
		if name == "" {
			continue
		}
		if p := g.consumers[name]; p != nil {
			out = append(out, bound{policy: p, subject: "consumer:" + who, label: label, rule: "ai.consumers." + name})
			break
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// checkModel refuses a model outside any applicable allowed list. The
// requested name and the provider model it resolves to both count, so an
// allow-list may name aliases or provider models.
func checkModel(bs []bound, requested, resolved string) *verdict.Verdict {
	for _, b := range bs {
		if len(b.policy.Models) == 0 {
			continue
		}
		ok := false
		for _, pat := range b.policy.Models {
			if matchModel(pat, requested) || matchModel(pat, resolved) {
				ok = true
				break
			}
		}
		if !ok {
			v := verdict.Denied("model_not_allowed", b.rule,
				fmt.Sprintf("model %q is not allowed for %s; allowed models: %s", requested, b.label, strings.Join(b.policy.Models, ", "))).
				With("model", requested).With("resolved", resolved).With("subject", b.subject)
			return &v
		}
	}
	return nil
}

// allowedBy reports whether every policy allows name (for /v1/models).
func allowedBy(bs []bound, name, resolved string) bool {
	return checkModel(bs, name, resolved) == nil
}

// limits turns the policies into ledger checks for one call.
func limits(bs []bound, requested, resolved string) ([]usage.Budget, []usage.Rate) {
	var budgets []usage.Budget
	var rates []usage.Rate
	for _, b := range bs {
		p := b.policy
		if p.Daily > 0 {
			budgets = append(budgets, usage.Budget{Subject: b.subject, Period: usage.Day, Limit: p.Daily})
		}
		if p.Monthly > 0 {
			budgets = append(budgets, usage.Budget{Subject: b.subject, Period: usage.Month, Limit: p.Monthly})
		}
		if p.RPM > 0 || p.TPM > 0 {
			rates = append(rates, usage.Rate{Subject: b.subject, RPM: p.RPM, TPM: p.TPM})
		}
		for _, pat := range sortedKeys(p.ModelLimits) {
			if matchModel(pat, requested) || matchModel(pat, resolved) {
				l := p.ModelLimits[pat]
				rates = append(rates, usage.Rate{Subject: b.subject + "|model:" + pat, RPM: l.RPM, TPM: l.TPM})
			}
		}
	}
	return budgets, rates
}

// refusalVerdict explains which limit refused a call and when it resets.
func (g *Gateway) refusalVerdict(bs []bound, rf *usage.Refusal, now time.Time) verdict.Verdict {
	label, rule := rf.Subject, "ai"
	for _, b := range bs {
		if strings.HasPrefix(rf.Subject, b.subject) {
			label, rule = b.label, b.rule
			break
		}
	}
	wait := rf.ResetAt.Sub(now)
	if wait < time.Second {
		wait = time.Second
	}
	retry := strconv.Itoa(int((wait + time.Second - 1) / time.Second))
	_, model, perModel := strings.Cut(rf.Subject, "|model:")
	scope := ""
	if perModel {
		scope = " for model " + strconv.Quote(model)
	}
	var v verdict.Verdict
	switch rf.Kind {
	case "budget":
		v = verdict.Denied("budget_exhausted", rule+".budget",
			fmt.Sprintf("the %s budget of $%.2f for %s is used up ($%.4f spent); it resets at %s",
				map[usage.Period]string{usage.Day: "daily", usage.Month: "monthly"}[rf.Period], usage.Micros(rf.Limit).USD(), label,
				usage.Micros(rf.Used).USD(), rf.ResetAt.UTC().Format(time.RFC3339))).
			WithStatus(g.budgetStatus)
	case "rpm":
		v = verdict.Denied("rate_limited", rule+".rpm",
			fmt.Sprintf("%s may send %d requests per minute%s; retry in %ss", label, rf.Limit, scope, retry)).WithHint("Wait for the time in Retry-After, then slow down.")
		v.Layer = "ai"
	default:
		v = verdict.Denied("token_limit_exceeded", rule+".tpm",
			fmt.Sprintf("%s may use %d tokens per minute%s (%d used); retry in %ss", label, rf.Limit, scope, rf.Used, retry))
	}
	return v.WithHeader("Retry-After", retry).With("subject", rf.Subject).With("reset", rf.ResetAt.UTC().Format(time.RFC3339))
}
