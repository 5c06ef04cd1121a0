package notify

import "testing"

// TestInflight is the race that sent an e-mail twice: the outbox was read
// while a delivery was in flight, the delivery ended, and the stale read
// must not dispatch it again.
func TestInflight(t *testing.T) {
	var f inflight
	if !f.claim(1) {
		t.Fatal("a free delivery is not claimed")
	}
	if f.claim(1) {
		t.Fatal("a delivery in flight is claimed twice")
	}
	// The outbox is read now (it still lists 1), then the attempt ends.
	f.finish(1)
	if f.claim(1) {
		t.Fatal("a read made before the attempt ended dispatches it again")
	}
	f.settle() // the next read sees the attempt's record
	if !f.claim(1) {
		t.Fatal("a delivery that ended and is due again is never retried")
	}
	if !f.claim(2) {
		t.Fatal("another delivery is not claimed")
	}
}
