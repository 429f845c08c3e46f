package diff

import (
	"context"
	"fmt"
	"io"
)

// Pointer prints where a result and its baseline part (the first
// partition and window, and the first differing event when both logs are
// still reachable), as `walletsim diff` does; gate prints it under a
// failed digest comparison. Empty paths: a hint to give them.
func Pointer(ctx context.Context, w io.Writer, result, baseline string) {
	if result == "" || baseline == "" {
		fmt.Fprintln(w, "digest differs; give --baseline RUN/summary.json to locate where (walletsim diff)")
		return
	}
	a, err := Load(baseline)
	if err != nil {
		return
	}
	b, err := Load(result)
	if err != nil {
		return
	}
	d, err := Compare(ctx, Config{A: a, B: b})
	if err != nil {
		fmt.Fprintf(w, "digest differs; cannot locate where: %v\n", err)
		return
	}
	if d.Identical {
		return
	}
	fmt.Fprintf(w, "digest differs: baseline (A) %s against result (B) %s\n", baseline, result)
	d.WritePointer(w)
}
