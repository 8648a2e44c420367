package h1server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

func TestRequestContextCancel(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	rc := &requestContext{parent: parent}
	if rc.Err() != nil || rc.Value(key{}) != "v" {
		t.Fatal("fresh context")
	}
	done := rc.Done()
	child, cancelChild := context.WithTimeout(rc, time.Hour)
	defer cancelChild()
	fired := make(chan struct{})
	stop := context.AfterFunc(rc, func() { close(fired) })
	unregistered := context.AfterFunc(rc, func() { t.Error("stopped AfterFunc ran") })
	if !unregistered() {
		t.Fatal("stop of a pending AfterFunc reported false")
	}
	goroutines := runtime.NumGoroutine()

	rc.cancel()
	rc.cancel() // idempotent
	select {
	case <-done:
	default:
		t.Fatal("Done not closed")
	}
	if !errors.Is(rc.Err(), context.Canceled) || !errors.Is(context.Cause(rc), context.Canceled) {
		t.Fatalf("Err %v, Cause %v", rc.Err(), context.Cause(rc))
	}
	if !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("derived context: %v", child.Err())
	}
	select {
	case <-fired:
	case <-time.After(bound):
		t.Fatal("AfterFunc did not run")
	}
	if stop() {
		t.Error("stop after the func ran reported true")
	}
	// Deriving from it spawned no goroutine to follow it (one may
	// still be finishing the AfterFunc above).
	if n := runtime.NumGoroutine(); n > goroutines+1 {
		t.Errorf("goroutines %d -> %d", goroutines, n)
	}
}

func TestRequestContextCancelledBeforeDone(t *testing.T) {
	rc := &requestContext{parent: context.Background()}
	rc.cancel()
	select {
	case <-rc.Done():
	default:
		t.Fatal("Done of a cancelled context is open")
	}
	ran := make(chan struct{})
	context.AfterFunc(rc, func() { close(ran) })
	<-ran
	ctx, cancel := context.WithCancel(rc)
	defer cancel()
	if ctx.Err() == nil {
		t.Fatal("child of a cancelled context is live")
	}
}

// A BaseContext that ends ends the requests under it, as with net/http.
func TestBaseContextCancellationReachesRequests(t *testing.T) {
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	started := make(chan struct{})
	got := make(chan error, 1)
	url, _ := serve(t, &Server{
		BaseContext: func(net.Listener) context.Context { return base },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			select {
			case <-r.Context().Done():
				got <- r.Context().Err()
			case <-time.After(bound):
				got <- errors.New("not cancelled")
			}
		}),
	})
	nc, _ := dial(t, url)
	write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	cancelBase()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
