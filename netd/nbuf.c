/*
 * nbuf.c: packet buffers and their pools. A pool holds a fixed number of
 * headers and two size classes of data areas, all allocated and touched
 * once at start (page faults are dear); allocation and free are O(1) list
 * operations. See nbuf.h for the geometry rules.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nbuf.h"
#include "util.h"

static size_t data_stride(const struct nbuf_class *c)
{
	return ALIGN_UP(sizeof(struct nbuf_data) + c->size, 64);
}

static int class_init(struct nbuf_class *c, size_t size, unsigned count, uint8_t idx)
{
	c->size = size;
	c->count = count;
	c->nfree = 0;
	c->free = NULL;
	c->mem = NULL;
	if (count == 0)
		return 0;
	size_t bytes = data_stride(c) * count;
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	c->mem = mem;
	for (unsigned i = count; i-- > 0;) {
		struct nbuf_data *d = (struct nbuf_data *)(c->mem + i * data_stride(c));
		d->cls = idx;
		d->refcnt = 0;
		d->next_free = c->free;
		c->free = d;
		c->nfree++;
	}
	return 0;
}

int nbuf_pool_init(struct nbuf_pool *p, const struct nbuf_pool_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->nhdrs = cfg->small_count + cfg->medium_count + cfg->large_count * 2 + 64;
	p->hdrs = calloc(p->nhdrs, sizeof(*p->hdrs));
	if (!p->hdrs)
		return -ENOMEM;
	for (unsigned i = p->nhdrs; i-- > 0;) {
		p->hdrs[i].next = p->free_hdrs;
		p->free_hdrs = &p->hdrs[i];
	}
	p->hdrs_free = p->nhdrs;
	int err = class_init(&p->cls[0], cfg->small_size, cfg->small_count, 0);
	if (!err)
		err = class_init(&p->cls[1], cfg->medium_size, cfg->medium_count, 1);
	if (!err)
		err = class_init(&p->cls[2], cfg->large_size, cfg->large_count, 2);
	if (err)
		nbuf_pool_destroy(p);
	return err;
}

void nbuf_pool_destroy(struct nbuf_pool *p)
{
	for (unsigned i = 0; i < NBUF_CLASSES; i++) {
		struct nbuf_class *c = &p->cls[i];
		if (c->mem)
			munmap(c->mem, data_stride(c) * c->count);
		c->mem = NULL;
	}
	free(p->hdrs);
	p->hdrs = NULL;
}

unsigned nbuf_pool_in_use(const struct nbuf_pool *p)
{
	/* Every live data area has at least one live header. */
	return p->nhdrs - p->hdrs_free;
}

static struct nbuf *hdr_get(struct nbuf_pool *p)
{
	struct nbuf *nb = p->free_hdrs;
	if (!nb)
		return NULL;
	p->free_hdrs = nb->next;
	p->hdrs_free--;
	memset(nb, 0, sizeof(*nb));
	nb->pool = p;
	return nb;
}

static void hdr_put(struct nbuf_pool *p, struct nbuf *nb)
{
	nb->next = p->free_hdrs;
	p->free_hdrs = nb;
	p->hdrs_free++;
}

static struct nbuf_data *data_get(struct nbuf_pool *p, size_t size)
{
	for (unsigned i = 0; i < NBUF_CLASSES; i++) {
		struct nbuf_class *c = &p->cls[i];
		if (c->size < size || !c->free)
			continue;
		struct nbuf_data *d = c->free;
		c->free = d->next_free;
		c->nfree--;
		d->refcnt = 1;
		return d;
	}
	return NULL;
}

static void data_put(struct nbuf_pool *p, struct nbuf_data *d)
{
	struct nbuf_class *c = &p->cls[d->cls];
	d->next_free = c->free;
	c->free = d;
	c->nfree++;
}

struct nbuf *nbuf_alloc(struct nbuf_pool *p, size_t size)
{
	struct nbuf *nb = hdr_get(p);
	struct nbuf_data *d = nb ? data_get(p, size) : NULL;
	if (!d) {
		if (nb)
			hdr_put(p, nb);
		p->exhausted++;
		return NULL;
	}
	nb->shared = d;
	nb->head = (uint8_t *)(d + 1);
	nb->data = nb->tail = nb->head;
	nb->end = nb->head + p->cls[d->cls].size;
	return nb;
}

struct nbuf *nbuf_alloc_tx(struct nbuf_pool *p, size_t size)
{
	struct nbuf *nb = nbuf_alloc(p, NBUF_HEADROOM + size);
	if (nb)
		nbuf_reserve(nb, NBUF_HEADROOM);
	return nb;
}

void nbuf_free(struct nbuf *nb)
{
	if (!nb)
		return;
	struct nbuf_pool *p = nb->pool;
	assert(nb->shared->refcnt > 0);
	if (--nb->shared->refcnt == 0)
		data_put(p, nb->shared);
	hdr_put(p, nb);
}

struct nbuf *nbuf_clone(struct nbuf *nb)
{
	struct nbuf *c = hdr_get(nb->pool);
	if (!c) {
		nb->pool->exhausted++;
		return NULL;
	}
	*c = *nb;
	c->next = NULL;
	nb->shared->refcnt++;
	return c;
}

struct nbuf *nbuf_copy(struct nbuf *nb)
{
	size_t room = (size_t)(nb->end - nb->head);
	struct nbuf *c = nbuf_alloc(nb->pool, room);
	if (!c)
		return NULL;
	nbuf_reserve(c, nbuf_headroom(nb));
	memcpy(nbuf_put(c, nbuf_len(nb)), nb->data, nbuf_len(nb));
	c->ifindex = nb->ifindex;
	c->pkt_type = nb->pkt_type;
	c->csum_verified = nb->csum_verified;
	c->l3_off = nb->l3_off;
	c->l4_off = nb->l4_off;
	return c;
}

bool nbuf_shared(const struct nbuf *nb)
{
	return nb->shared->refcnt > 1;
}

struct nbuf *nbuf_unshare(struct nbuf *nb)
{
	if (!nbuf_shared(nb))
		return nb;
	struct nbuf *c = nbuf_copy(nb);
	nbuf_free(nb);
	return c;
}

void nbuf_reserve(struct nbuf *nb, size_t len)
{
	assert(nb->data == nb->tail && len <= nbuf_tailroom(nb));
	nb->data += len;
	nb->tail += len;
}

uint8_t *nbuf_put(struct nbuf *nb, size_t len)
{
	assert(len <= nbuf_tailroom(nb));
	uint8_t *p = nb->tail;
	nb->tail += len;
	return p;
}

uint8_t *nbuf_push(struct nbuf *nb, size_t len)
{
	assert(len <= nbuf_headroom(nb));
	nb->data -= len;
	return nb->data;
}

uint8_t *nbuf_pull(struct nbuf *nb, size_t len)
{
	if (len > nbuf_len(nb))
		return NULL;
	nb->data += len;
	return nb->data;
}

void nbuf_trim(struct nbuf *nb, size_t len)
{
	if (len < nbuf_len(nb))
		nb->tail = nb->data + len;
}

void nbuf_queue_push(struct nbuf_queue *q, struct nbuf *nb)
{
	nb->next = NULL;
	if (q->last)
		q->last->next = nb;
	else
		q->first = nb;
	q->last = nb;
	q->len++;
}

struct nbuf *nbuf_queue_pop(struct nbuf_queue *q)
{
	struct nbuf *nb = q->first;
	if (!nb)
		return NULL;
	q->first = nb->next;
	if (!q->first)
		q->last = NULL;
	q->len--;
	nb->next = NULL;
	return nb;
}

void nbuf_queue_purge(struct nbuf_queue *q)
{
	struct nbuf *nb;
	while ((nb = nbuf_queue_pop(q)))
		nbuf_free(nb);
}
