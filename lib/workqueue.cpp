// SPDX-License-Identifier: GPL-2.0
/*
 * WorkQueue: the framework's handle on a port work queue
 * (alloc_workqueue()/alloc_ordered_workqueue() and destroy_workqueue()).
 */
#include <keel/workqueue.h>

namespace keel {

Result<WorkQueue *> WorkQueue::create(const char *name, bool ordered)
{
	void *handle = keel_port_workqueue_create(name, ordered);
	if (!handle)
		return err(-ENOMEM);
	WorkQueue *wq = new (GFP_KERNEL) WorkQueue(handle);
	if (!wq) {
		keel_port_workqueue_destroy(handle);
		return err(-ENOMEM);
	}
	return wq;
}

void WorkQueue::destroy()
{
	keel_port_workqueue_destroy(m_wq);
	delete this;
}

} // namespace keel
