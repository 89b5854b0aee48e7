// Package drain runs a dispatcher's rounds: at each tick, round after round
// while a round comes back full, until the work due is done.
package drain

import (
	"context"
	"time"
)

// Every calls round each tick of every (a second when not positive), again
// at once while it takes a full batch, until ctx ends. A round's error
// ends the tick; report gets it unless ctx has ended.
func Every(ctx context.Context, every time.Duration, batch int, round func(context.Context) (int, error), report func(error)) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := round(ctx)
			if err != nil && ctx.Err() == nil {
				report(err)
			}
			if err != nil || n < batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A tick that came with the end runs no more rounds.
			if ctx.Err() != nil {
				return
			}
		}
	}
}
