package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"golang.org/x/sync/errgroup"
)

var _ PatchPutter = (*S3Store)(nil)

// maxHold bounds one held range: it must fit in the room a part leaves
// when cut early, and S3 takes no part under 5 MiB but the last.
const maxHold = 1 << 20

// PutPatchable implements PatchPutter.
//
// Like Put, it gathers a 256 KiB head first and sends an object that ends
// there as one PUT (patched in memory). A longer one becomes a multipart
// upload; the part holding a held range stays in its budget buffer until
// Release and is sent then, while the parts after it go up meanwhile.
//
// Why hold rather than send at once and upload the part again once
// patched (S3 lets a part number be uploaded again before Complete): the
// part's bytes would have to be kept for the second upload anyway, so it
// would hold the same memory and send every such part twice. Holding sends
// each byte once; its cost is that the bytes after a held header go up
// before the header is final, so the object's SHA-256 has to finish by
// reading those bytes back (see orderedHash).
//
// Memory: the upload takes two part buffers from the budget in one
// Acquire when it turns multipart, and more only with TryAcquire. A held
// part therefore never waits on the budget for the buffer it needs next:
// at most one of its own two buffers is held, the other is free or in
// flight and comes back when its part is stored. Uploads that hold cannot
// deadlock one another, and the budget still bounds every byte.
func (s *S3Store) PutPatchable(ctx context.Context, key string, opts PutOptions) (PatchWriter, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	headp := smallBufs.Get().(*[]byte)
	p := &s3Patch{
		u:     &upload{s: s, key: key, objKey: k, opts: opts, first: firstPartSize(opts.SizeHint)},
		ctx:   ctx,
		headp: headp,
		cur:   part{buf: (*headp)[:0]},
		sum:   newOrderedHash(),
	}
	return p, nil
}

// s3Patch is a PatchWriter into S3.
type s3Patch struct {
	u     *upload
	ctx   context.Context
	headp *[]byte // the head buffer, nil once the upload is multipart
	sum   *orderedHash
	held  held
	err   error // sticky
	done  bool  // committed: Abort has nothing left to do

	cur    part // being filled: len(cur.buf) bytes so far, cap the part size
	curOff int64

	heldPart *part // a full part holding the held range, sent on Release

	// Multipart state, set by goMultipart.
	slab   []byte      // the upload's own two buffers, in one piece
	own    chan []byte // own buffers not in use
	g      *errgroup.Group
	gctx   context.Context
	cancel context.CancelFunc
}

// part is one part's buffer. Own buffers go back to the upload; others go
// back to the budget.
type part struct {
	n   int
	off int64
	buf []byte
	own bool
}

func (p *s3Patch) fail(err error) error {
	if p.err == nil {
		p.err = err
	}
	return err
}

func (p *s3Patch) size() int64 { return p.curOff + int64(len(p.cur.buf)) }

func (p *s3Patch) Write(b []byte) (int, error) {
	total := len(b)
	for len(b) > 0 {
		if p.err != nil {
			return 0, p.err
		}
		if len(p.cur.buf) == cap(p.cur.buf) {
			if err := p.next(); err != nil {
				return 0, err
			}
		}
		c := &p.cur.buf
		n := copy((*c)[len(*c):cap(*c)], b)
		*c = (*c)[:len(*c)+n]
		b = b[n:]
	}
	return total, nil
}

// Hold writes b where it can be patched: in one buffer, so that one part
// holds it. When b does not fit in the current part, the part is cut short
// (still far over S3's 5 MiB minimum, as parts are 8 MiB or more).
func (p *s3Patch) Hold(b []byte) error {
	if len(b) > maxHold {
		return p.fail(fmt.Errorf("put %s: hold %d bytes: more than %d", p.u.key, len(b), maxHold))
	}
	if err := p.held.hold(p.size(), len(b)); err != nil {
		return p.fail(err)
	}
	if len(p.cur.buf)+len(b) > cap(p.cur.buf) {
		if err := p.next(); err != nil {
			return err
		}
	}
	_, err := p.Write(b)
	return err
}

func (p *s3Patch) Patch(off int64, b []byte) error {
	if err := p.held.check(off, len(b)); err != nil {
		return p.fail(err)
	}
	at := &p.cur
	if h := p.heldPart; h != nil && off < h.off+int64(len(h.buf)) {
		at = h
	}
	copy(at.buf[off-at.off:], b)
	return nil
}

// Release sends the held part, if the held range filled one.
func (p *s3Patch) Release() error {
	if err := p.held.release(); err != nil {
		return p.fail(err)
	}
	if h := p.heldPart; h != nil {
		p.heldPart = nil
		return p.send(*h)
	}
	return nil
}

// next moves on from a full buffer: from the head into the first part
// buffer, or from a part to the next one.
func (p *s3Patch) next() error {
	if p.headp != nil {
		return p.goMultipart()
	}
	full := p.cur
	p.cur = part{}
	if p.held.on && p.held.start >= full.off && p.held.start < full.off+int64(len(full.buf)) {
		p.heldPart = &full // the held range is in it: keep it until Release
	} else if err := p.send(full); err != nil {
		return err
	}
	if full.n >= maxParts {
		return p.fail(p.u.errorf("part %d: more than S3's %d parts; give a SizeHint", full.n+1, maxParts))
	}
	buf, own, err := p.buffer(partSize(p.u.first, full.n+1))
	if err != nil {
		return err
	}
	p.curOff = full.off + int64(len(full.buf))
	p.cur = part{n: full.n + 1, off: p.curOff, buf: buf[:0], own: own}
	return nil
}

// goMultipart takes the upload's two buffers from the budget in one go
// (holding nothing from it yet, so waiting is safe) and moves the head into
// the first.
func (p *s3Patch) goMultipart() error {
	size := int(p.u.first)
	slab, err := p.u.s.budget.Acquire(p.ctx, 2*size)
	if err != nil {
		return p.fail(p.u.errorf("part 1: %w", err))
	}
	p.slab = slab
	p.own = make(chan []byte, 2)
	p.own <- slab[size : 2*size : 2*size]
	first := append(slab[:0:size], p.cur.buf...)
	p.cur = part{n: 1, off: 0, buf: first, own: true}
	smallBufs.Put(p.headp)
	p.headp = nil
	p.gctx, p.cancel = context.WithCancel(p.ctx)
	p.g, p.gctx = errgroup.WithContext(p.gctx)
	p.g.SetLimit(p.u.s.concurrency)
	return nil
}

// buffer finds the next part's buffer without waiting on the budget: an own
// buffer that is free, else one from the budget if it fits now, else the
// own buffer that comes back first.
func (p *s3Patch) buffer(size int64) ([]byte, bool, error) {
	select {
	case b := <-p.own:
		return b, true, nil
	default:
	}
	if b, ok := p.u.s.budget.TryAcquire(int(size)); ok {
		return b, false, nil
	}
	select {
	case b := <-p.own:
		return b, true, nil
	case <-p.gctx.Done():
		return nil, false, p.fail(p.waitErr())
	}
}

// send hashes a part if it continues the hash, and uploads it.
func (p *s3Patch) send(pt part) error {
	if p.u.id == nil {
		if err := p.u.create(p.ctx); err != nil {
			p.giveBack(pt)
			return p.fail(err)
		}
	}
	p.sum.final(pt.off, pt.buf)
	p.g.Go(func() error {
		defer p.giveBack(pt)
		return p.u.sendPart(p.gctx, pt.n, pt.buf)
	})
	return nil
}

func (p *s3Patch) giveBack(pt part) {
	if pt.buf == nil {
		return
	}
	if pt.own {
		p.own <- pt.buf[:0]
	} else {
		p.u.s.budget.Release(pt.buf)
	}
}

// waitErr is the error that stopped the parts in flight.
func (p *s3Patch) waitErr() error {
	if err := p.g.Wait(); err != nil {
		return err
	}
	return p.u.errorf("%w", context.Cause(p.gctx))
}

// Commit sends what is left and completes the upload: one PUT for an
// object that never outgrew its first buffer.
func (p *s3Patch) Commit() (Info, error) {
	if p.err != nil {
		p.Abort()
		return Info{}, p.err
	}
	if p.held.on {
		p.Abort()
		return Info{}, p.u.errorf("commit: %w", errHeld)
	}
	if p.u.id == nil {
		return p.putWhole()
	}
	info, err := p.completeMultipart()
	if err != nil {
		p.Abort()
		return Info{}, err
	}
	p.done = true
	p.cleanup()
	return info, nil
}

// putWhole sends an object still in one buffer as one PUT.
func (p *s3Patch) putWhole() (Info, error) {
	p.done = true
	defer p.cleanup()
	sum := sha256.Sum256(p.cur.buf)
	info, err := p.u.putObject(p.ctx, p.cur.buf)
	if err != nil {
		return Info{}, err
	}
	info.SHA256 = hex.EncodeToString(sum[:])
	return info, nil
}

func (p *s3Patch) completeMultipart() (Info, error) {
	last := p.cur
	p.cur = part{}
	if len(last.buf) == 0 && last.n > 1 {
		p.giveBack(last) // the stream ended on a part boundary
	} else if err := p.send(last); err != nil {
		return Info{}, err
	}
	if err := p.g.Wait(); err != nil {
		return Info{}, err
	}
	info, err := p.u.complete(p.ctx)
	if err != nil {
		return Info{}, err
	}
	if p.sum.n < info.Size {
		if err := p.readBack(info.Size); err != nil {
			return Info{}, fmt.Errorf("%w (the object was stored)", err)
		}
	}
	info.SHA256 = p.sum.sum()
	return info, nil
}

// readBack finishes the SHA-256 from the stored object: the bytes that
// went up while a header before them was still held.
func (p *s3Patch) readBack(size int64) error {
	ra, err := p.u.s.Open(p.ctx, p.u.key)
	if err != nil {
		return p.u.errorf("read back: %w", err)
	}
	defer ra.Close()
	if err := p.sum.catchUp(ra, size); err != nil {
		return p.u.errorf("%w", err)
	}
	return nil
}

// Abort stops the parts in flight, aborts the multipart upload and gives
// every buffer back.
func (p *s3Patch) Abort() {
	if p.done {
		return
	}
	p.done = true
	p.fail(p.u.errorf("upload ended"))
	if p.g != nil {
		p.cancel()
		p.g.Wait()
	}
	if p.u.id != nil {
		p.u.abort(p.ctx)
		p.u.id = nil
	}
	p.cleanup()
}

// cleanup gives back the buffers not in flight; call it after g.Wait.
func (p *s3Patch) cleanup() {
	if p.headp != nil {
		smallBufs.Put(p.headp)
		p.headp = nil
		p.cur = part{}
	}
	if p.heldPart != nil {
		p.giveBack(*p.heldPart)
		p.heldPart = nil
	}
	if p.cur.buf != nil && !p.cur.own {
		p.u.s.budget.Release(p.cur.buf)
	}
	p.cur = part{}
	if p.slab != nil {
		p.u.s.budget.Release(p.slab)
		p.slab = nil
		p.cancel()
	}
}
