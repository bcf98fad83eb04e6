// SPDX-License-Identifier: GPL-2.0
/* Intrusive List: order, removal during iteration, neighbours, linkage. */
#include <keel/list.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Node {
	int v;
	ListNode m_node;
};
using NodeList = List<Node, &Node::m_node>;

/* Writes the values in list order into @out; returns how many. */
int values(NodeList &l, int *out, int max)
{
	int n = 0;
	for (Node &x : l)
		if (n < max)
			out[n++] = x.v;
	return n;
}

void push_back_and_front_keep_order(Test &t)
{
	Node a{ 1, {} }, b{ 2, {} }, c{ 3, {} };
	NodeList l;
	EXPECT_TRUE(t, l.is_empty());
	EXPECT_NULL(t, l.first());
	l.push_back(b);
	l.push_back(c);
	l.push_front(a);
	int v[4];
	const int want[] = { 1, 2, 3 };
	EXPECT_EQ(t, values(l, v, 4), 3);
	EXPECT_MEMEQ(t, v, want, sizeof(want));
	EXPECT_EQ(t, l.first(), &a);
	EXPECT_EQ(t, l.last(), &c);
	EXPECT_EQ(t, l.next(a), &b);
	EXPECT_EQ(t, l.prev(b), &a);
	EXPECT_NULL(t, l.next(c));
	EXPECT_NULL(t, l.prev(a));
	EXPECT_EQ(t, l.size_slow(), size_t(3));
	while (l.pop_front()) {
	}
}

void remove_unlinks_only_that_node(Test &t)
{
	Node a{ 1, {} }, b{ 2, {} }, c{ 3, {} };
	NodeList l;
	l.push_back(a);
	l.push_back(b);
	l.push_back(c);
	l.remove(b);
	EXPECT_FALSE(t, b.m_node.is_linked());
	EXPECT_FALSE(t, NodeList::contains_node(b));
	EXPECT_TRUE(t, NodeList::contains_node(a));
	EXPECT_EQ(t, l.next(a), &c);
	/* Unlinking an unlinked node is a no-op (list_del_init). */
	b.m_node.unlink();
	EXPECT_EQ(t, l.size_slow(), size_t(2));
	l.insert_before(c, b);
	int v[4];
	const int want[] = { 1, 2, 3 };
	EXPECT_EQ(t, values(l, v, 4), 3);
	EXPECT_MEMEQ(t, v, want, sizeof(want));
	while (l.pop_front()) {
	}
}

void iteration_allows_removing_the_current_node(Test &t)
{
	Node n[10];
	NodeList l;
	for (int i = 0; i < 10; i++) {
		n[i].v = i;
		l.push_back(n[i]);
	}
	for (Node &x : l)
		if (x.v % 2)
			l.remove(x);
	int v[10];
	const int want[] = { 0, 2, 4, 6, 8 };
	EXPECT_EQ(t, values(l, v, 10), 5);
	EXPECT_MEMEQ(t, v, want, sizeof(want));
	int popped = 0;
	while (Node *x = l.pop_front()) {
		EXPECT_FALSE(t, x->m_node.is_linked());
		popped++;
	}
	EXPECT_EQ(t, popped, 5);
	EXPECT_TRUE(t, l.is_empty());
}

const TestCase list_cases[] = {
	KEEL_CASE(push_back_and_front_keep_order),
	KEEL_CASE(remove_unlinks_only_that_node),
	KEEL_CASE(iteration_allows_removing_the_current_node),
	{},
};

const TestSuite list_suite = { .name = "keel_list", .cases = list_cases };

} // namespace

KEEL_TEST_SUITE(list_suite);
