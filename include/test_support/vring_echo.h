/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support (not API): the remote side of the echo used by the
 * transport tests (the in-process suite, the two-process test and the
 * benchmark). One pass copies each buffer the host sent on vring 1 into a
 * buffer the host posted on vring 0, returns both, and notifies as the
 * rings ask. Framework headers only: it builds into the KUnit test module
 * too, which is why it sits in include/ (the kernel build's include path)
 * rather than beside the hosted part of the test-support library
 * (tools/testing/support).
 */
#ifndef TEST_SUPPORT_VRING_ECHO_H
#define TEST_SUPPORT_VRING_ECHO_H

#include <virtio/virtio_shm.h>

namespace virtio::test {

/**
 * remote_echo() - echo what the host sent, one pass
 * @r: the remote, with vdev 0's queues built
 * @passes: re-checks of the tx ring after re-enabling kicks (bounds the pass)
 *
 * MaxBuf is the largest buffer copied (the rest of a longer one is dropped).
 *
 * Context: process (the queue calls do not sleep; the caller serialises
 * calls on the remote's queues).
 * Return: the number of buffers echoed, -ENODEV before the queues exist,
 * -EIO when a ring is broken or the host posted no rx buffer for a tx one.
 */
template <u32 MaxBuf> keel::Result<u32> remote_echo(ShmRemote &r, u32 passes)
{
	Vringh *txq = r.vringh(0, 1), *rxq = r.vringh(0, 0);
	if (!txq || !rxq)
		return keel::err(-ENODEV);
	u32 n = 0;
	for (u32 pass = 0; pass <= passes; pass++) {
		while (TRY(rxq->avail_pending()) > 0) {
			VringhChainStorage<2, 2> in, out;
			if (!TRY(txq->getdesc(in)))
				break;
			if (!TRY(rxq->getdesc(out)))
				return keel::err(-EIO);
			u8 data[MaxBuf];
			size_t len = in.pull(data, sizeof(data));
			size_t pushed = out.push(data, len);
			TRY(txq->add_used(in, 0));
			TRY(rxq->add_used(out, u32(pushed)));
			n++;
		}
		/*
		 * Ask for the next kick (with event idx: publish avail_event), then
		 * re-check: a buffer added in between would otherwise wait for a
		 * kick the driver already decided not to send.
		 */
		if (txq->notify_enable())
			break;
	}
	if (n && txq->need_notify())
		TRY(r.notify(0, 1));
	if (n && rxq->need_notify())
		TRY(r.notify(0, 0));
	return n;
}

} // namespace virtio::test

#endif
