package alerts

import (
	"context"
	"net/http"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/admin"
	"pinpoint/internal/app"
	"pinpoint/internal/config"
	"pinpoint/internal/gateway"
)

func init() {
	gateway.RegisterSection("alerts", func(n *yaml.Node) error {
		_, err := Parse(n)
		return err
	})
	app.OnStart(start)
}

// section parses the alerts section of cfg; no section means no rules.
func section(cfg *config.Config) (*Config, error) {
	node, ok := cfg.Sections["alerts"]
	if !ok {
		node = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return Parse(&node)
}

// tickEvery is how often rules are evaluated: alerts fire at most this
// long after their condition holds.
const tickEvery = time.Second

// start runs the engine for the app's lifetime with the alerts section's
// rules and webhooks. A config reload installs the new section's rules
// and webhooks (the build already checked them, so a bad section never
// gets here); unchanged rules keep their state across it.
func start(_ context.Context, a *app.App) error {
	c, err := section(a.Config)
	if err != nil {
		return err
	}
	d := NewDeliverer(c.Webhooks, &http.Client{}, time.Now, a.Logger)
	e := NewEngine(c, time.Now, a.Logger, d.Send)
	a.Gateway.Observe(e.Observe)
	a.Gateway.OnSwap(func(cfg *config.Config) {
		c, err := section(cfg)
		if err != nil {
			a.Logger.Error("alerts section not applied; the previous rules stay", "err", err)
			return
		}
		d.SetWebhooks(c.Webhooks)
		e.Reconfigure(c)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.Tick()
			}
		}
	}()
	a.OnClose(func() {
		cancel()
		<-done
		d.Close()
	})
	if a.Admin != nil {
		a.Admin.Extra["alerts"] = e
		a.Admin.HandleFunc("GET /admin/v1/alerts", func(w http.ResponseWriter, r *http.Request) {
			admin.WriteJSON(w, http.StatusOK, map[string]any{
				"rules": e.States(), "delivered": d.Delivered.Load(), "failed": d.Failed.Load(), "dropped": d.Dropped.Load(),
			})
		})
	}
	return nil
}
