package ledger

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// snapshotMagic starts every snapshot; the version byte follows it.
var snapshotMagic = [7]byte{'W', 'S', 'S', 'N', 'A', 'P', 3} // 2: wallets carry Target, Withdrawn and Card (issue 13); 3: Wallet's fields reordered by size (issue 15)

// WriteSnapshot writes the book's wallets, in slot order, with the log
// offset they are valid at. A snapshot lets a rebuild start there instead
// of at offset zero.
func (b *Book) WriteSnapshot(w io.Writer, offset int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	hdr := struct {
		Magic         [7]byte
		Stride, Part  uint64
		Offset, Slots int64
	}{snapshotMagic, b.stride, b.part, offset, int64(len(b.wallets))}
	if err := binary.Write(bw, binary.LittleEndian, &hdr); err != nil {
		return err
	}
	if err := binary.Write(bw, binary.LittleEndian, b.wallets); err != nil {
		return err
	}
	return bw.Flush()
}

// ReadSnapshot restores wallets written by WriteSnapshot into an empty
// book of the same partitioning and returns the offset to resume at.
func (b *Book) ReadSnapshot(r io.Reader) (int64, error) {
	var hdr struct {
		Magic         [7]byte
		Stride, Part  uint64
		Offset, Slots int64
	}
	br := bufio.NewReaderSize(r, 1<<20)
	if err := binary.Read(br, binary.LittleEndian, &hdr); err != nil {
		return 0, fmt.Errorf("snapshot header: %w", err)
	}
	if hdr.Magic != snapshotMagic {
		return 0, errors.New("snapshot: not a walletsim snapshot, or another version")
	}
	if hdr.Stride != b.stride || hdr.Part != b.part {
		return 0, fmt.Errorf("snapshot is of partition %d of %d, this book is %d of %d", hdr.Part, hdr.Stride, b.part, b.stride)
	}
	if hdr.Slots < 0 || hdr.Slots > 1<<32 || hdr.Offset < 0 {
		return 0, errors.New("snapshot: corrupt header")
	}
	ws := make([]Wallet, hdr.Slots)
	if err := binary.Read(br, binary.LittleEndian, ws); err != nil {
		return 0, fmt.Errorf("snapshot wallets: %w", err)
	}
	b.wallets = ws
	return hdr.Offset, nil
}
