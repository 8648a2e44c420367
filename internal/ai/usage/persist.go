package usage

import (
	"context"
	"time"

	"pinpoint/internal/store"
)

func init() {
	store.Register(store.Migration{Feature: "ai", ID: 1, SQL: `
CREATE TABLE IF NOT EXISTS ai_usage (
  request_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  consumer TEXT NOT NULL DEFAULT '',
  key_id TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  endpoint TEXT NOT NULL DEFAULT '',
  stream INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  cost_micros BIGINT NOT NULL DEFAULT 0,
  latency_us BIGINT NOT NULL DEFAULT 0,
  fallbacks INTEGER NOT NULL DEFAULT 0,
  estimated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ai_usage_ts ON ai_usage (ts);
CREATE TABLE IF NOT EXISTS ai_spend (
  subject TEXT NOT NULL,
  period TEXT NOT NULL,
  window_start BIGINT NOT NULL,
  spent_micros BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (subject, period, window_start)
)`})
}

// spendTarget is a budget window a settled record adds to.
type spendTarget struct {
	subject string
	period  Period
	start   int64
}

// recWithSpend attaches the reservation's budget windows to the record, so
// the writer adds its cost to exactly the windows that admitted it.
func recWithSpend(rec Record, res *Reservation) Record {
	if res != nil {
		rec.spend = make([]spendTarget, 0, len(res.budgets))
		for _, k := range res.budgets {
			rec.spend = append(rec.spend, spendTarget{k.subject, k.period, k.start})
		}
	}
	return rec
}

const (
	insertUsage = `INSERT INTO ai_usage (request_id, ts, consumer, key_id, route, provider, model, endpoint, stream, status, prompt_tokens, completion_tokens, cost_micros, latency_us, fallbacks, estimated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// ON CONFLICT … DO UPDATE is understood by SQLite (3.24+) and
	// PostgreSQL alike.
	upsertSpend = `INSERT INTO ai_spend (subject, period, window_start, spent_micros) VALUES (?, ?, ?, ?)
ON CONFLICT (subject, period, window_start) DO UPDATE SET spent_micros = ai_spend.spent_micros + excluded.spent_micros`
)

// writer drains the queue in batches: whatever arrived within 200 ms, in
// one transaction.
func (l *Ledger) writer() {
	defer l.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var batch []Record
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
			if len(batch) >= 256 {
				l.write(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			if len(batch) > 0 {
				l.write(batch)
				batch = batch[:0]
			}
		case done := <-l.flush:
			batch = l.drain(batch)
			if len(batch) > 0 {
				l.write(batch)
				batch = batch[:0]
			}
			close(done)
		case <-l.stop:
			for {
				select {
				case r := <-l.queue:
					batch = append(batch, r)
				default:
					if len(batch) > 0 {
						l.write(batch)
					}
					return
				}
			}
		}
	}
}

func (l *Ledger) drain(batch []Record) []Record {
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
}

func (l *Ledger) write(batch []Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.writeTx(ctx, batch); err != nil {
		l.logger.Error("ai usage write failed", "layer", "ai", "records", len(batch), "err", err)
	}
}

func (l *Ledger) writeTx(ctx context.Context, batch []Record) error {
	tx, err := l.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, l.st.Rebind(insertUsage))
	if err != nil {
		return err
	}
	defer ins.Close()
	up, err := tx.PrepareContext(ctx, l.st.Rebind(upsertSpend))
	if err != nil {
		return err
	}
	defer up.Close()
	for _, r := range batch {
		if _, err := ins.ExecContext(ctx, r.RequestID, r.Time.UnixMicro(), r.Consumer, r.KeyID, r.Route, r.Provider, r.Model, r.Endpoint,
			boolInt(r.Stream), r.Status, r.PromptTokens, r.CompletionTokens, int64(r.Cost), r.Latency.Microseconds(), r.Fallbacks, boolInt(r.Estimated)); err != nil {
			return err
		}
		if r.Cost == 0 {
			continue
		}
		for _, s := range r.spend {
			if _, err := up.ExecContext(ctx, s.subject, string(s.period), s.start, int64(r.Cost)); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Flush waits until every record queued so far is written. Tests and
// shutdown use it. The writer does the work, so a batch it already holds
// is written too.
func (l *Ledger) Flush() {
	if l.st == nil {
		return
	}
	done := make(chan struct{})
	select {
	case l.flush <- done:
		<-done
	case <-l.stop:
	}
}

// Close writes what is queued and stops the writer.
func (l *Ledger) Close() error {
	if l.st == nil {
		return nil
	}
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	return nil
}
