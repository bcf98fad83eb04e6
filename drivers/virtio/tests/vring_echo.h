/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The remote side of the echo used by the transport tests (the in-process
 * unit test and the two-process test): one pass copies each buffer the host
 * sent on vring 1 into a buffer the host posted on vring 0, returns both,
 * and notifies as the rings ask. Framework headers only (also built as KUnit).
 */
#ifndef KEEL_VRING_ECHO_H
#define KEEL_VRING_ECHO_H

#include <virtio/virtio_shm.h>

namespace virtio::test {

/* Returns the number of buffers echoed; -ENODEV before the queues exist. */
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
