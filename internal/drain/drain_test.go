package drain

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A tick runs rounds while they come back full, stops at a short one or
// an error (reported), and the loop ends with ctx.
func TestRoundsRunWhileFullAndStopWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sizes := []int{10, 10, 3, 10, 7}
	var calls int
	var reported []error
	boom := errors.New("database down")
	round := func(context.Context) (int, error) {
		calls++
		switch {
		case calls <= 3: // the first tick: 10, 10, 3
			return sizes[calls-1], nil
		case calls == 4: // the second tick: a failure ends it
			return 0, boom
		default:
			cancel()
			return sizes[4], nil
		}
	}
	done := make(chan struct{})
	go func() {
		Every(ctx, time.Millisecond, 10, round, func(err error) { reported = append(reported, err) })
		close(done)
	}()
	<-done
	if calls != 5 {
		t.Fatalf("%d rounds, want 5 (three in the first tick, one failing, one after)", calls)
	}
	if len(reported) != 1 || !errors.Is(reported[0], boom) {
		t.Fatalf("reported %v, want the one failure", reported)
	}
}
