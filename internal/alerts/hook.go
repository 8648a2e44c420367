package alerts

import (
	"context"
	"net/http"
	"time"

	"pinpoint/internal/admin"
	"pinpoint/internal/app"
	"pinpoint/internal/gateway"
)

func init() {
	gateway.RegisterSection("alerts")
	app.OnStart(start)
}

// tickEvery is how often rules are evaluated: alerts fire at most this
// long after their condition holds.
const tickEvery = time.Second

// start reads the alerts section, if any, and runs the engine for the
// app's lifetime. The section is read at start; a config reload does not
// change the rules (restart to change them).
func start(_ context.Context, a *app.App) error {
	node, ok := a.Config.Sections["alerts"]
	if !ok {
		return nil
	}
	c, err := Parse(&node)
	if err != nil {
		return err
	}
	d := NewDeliverer(c.Webhooks, &http.Client{}, time.Now, a.Logger)
	e := NewEngine(c, time.Now, a.Logger, d.Send)
	a.Gateway.Observe(e.Observe)
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
