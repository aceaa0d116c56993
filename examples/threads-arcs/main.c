/*
 * threads-arcs: one Rust Arc<Tally>, many C threads. Main makes a handle and
 * gives each worker thread a clone; each worker adds to the tally, passes a
 * clone of its own on to a relay thread through a queue, and drops its
 * handle — half in C (ferry_drop), half by handing it to Rust
 * (tally_release). After the joins, Rust's Arc::strong_count is back to 1
 * (main's handle), and once that is dropped the ledger must balance.
 */
#include "tally.h"

#include <pthread.h>
#include <stdio.h>

FERRY_TYPED_HANDLE(Tally, Handle_Tally, "tally.Tally")

enum { WORKERS = 4, ADDS = 250 };

/* How a worker hands a handle to the relay: the handle's bits are all that
 * crosses, under a lock, like any other value. */
typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    Handle_Tally items[WORKERS];
    int head, tail;
} queue;

typedef struct worker {
    int id;
    Handle_Tally tally; /* this thread's own handle: it must end it */
    queue *relay;
    ferry_status status;
} worker;

static void queue_push(queue *q, Handle_Tally h)
{
    pthread_mutex_lock(&q->lock);
    q->items[q->tail++] = h; /* never more than WORKERS pushes: no wrap */
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}

static Handle_Tally queue_pop(queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->head == q->tail)
        pthread_cond_wait(&q->nonempty, &q->lock);
    Handle_Tally h = q->items[q->head++];
    pthread_mutex_unlock(&q->lock);
    return h;
}

/* ferry_last_error() is per thread, so a thread reports its own failure. */
static ferry_status failed(const char *who, ferry_status s)
{
    fprintf(stderr, "%s: %s\n  %s\n", who, ferry_status_name(s), ferry_last_error());
    return s;
}

/* Ends h on the side chosen by `in_rust`, so both ledger columns fill. */
static ferry_status end_handle(Handle_Tally h, int in_rust)
{
    return in_rust ? tally_release(h) : ferry_drop_as(Tally, h);
}

static void *work(void *arg)
{
    worker *w = arg;
    ferry_status s = FERRY_OK;
    for (int i = 0; i < ADDS && s == FERRY_OK; i++)
        s = tally_add(w->tally, 1);
    /* The relay waits for one handle per worker: after a failure it gets
     * the null handle, which it reports instead of waiting forever. */
    Handle_Tally passed = {0};
    if (s == FERRY_OK)
        s = ferry_clone_as(Tally, w->tally, &passed);
    queue_push(w->relay, passed);
    ferry_status end = end_handle(w->tally, w->id % 2);
    if (s == FERRY_OK)
        s = end;
    w->status = s == FERRY_OK ? s : failed("worker", s);
    return NULL;
}

/* Takes one handle from each worker, adds once through it and ends it. */
static void *relay(void *arg)
{
    worker *r = arg;
    ferry_status s = FERRY_OK;
    for (int i = 0; i < WORKERS; i++) {
        Handle_Tally h = queue_pop(r->relay);
        ferry_status added = tally_add(h, 1);
        ferry_status end = end_handle(h, i % 2);
        if (s == FERRY_OK)
            s = added != FERRY_OK ? added : end;
    }
    r->status = s == FERRY_OK ? s : failed("relay", s);
    return NULL;
}

static int fail(const char *what, ferry_status s)
{
    failed(what, s);
    return 1;
}

int main(void)
{
    Handle_Tally tally;
    ferry_status s = tally_new(&tally);
    if (s != FERRY_OK)
        return fail("tally_new", s);

    /* workers[WORKERS] is the relay; it has no handle of its own. */
    static queue q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0}}, 0, 0};
    worker workers[WORKERS + 1];
    for (int i = 0; i <= WORKERS; i++) {
        workers[i] = (worker){.id = i, .relay = &q};
        if (i < WORKERS && (s = ferry_clone_as(Tally, tally, &workers[i].tally)) != FERRY_OK)
            return fail("ferry_clone", s);
    }
    uint64_t strong;
    if ((s = tally_strong_count(tally, &strong)) != FERRY_OK)
        return fail("tally_strong_count", s);
    printf("main holds one Arc<Tally> handle and %d clones for the workers: Arc::strong_count = "
           "%llu\n",
           WORKERS, (unsigned long long)strong);

    pthread_t threads[WORKERS + 1];
    for (int i = 0; i <= WORKERS; i++)
        if (pthread_create(&threads[i], NULL, i < WORKERS ? work : relay, &workers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    int ok = 1;
    for (int i = 0; i <= WORKERS; i++) {
        pthread_join(threads[i], NULL);
        ok &= workers[i].status == FERRY_OK;
    }

    uint64_t total, adders;
    if ((s = tally_read(tally, &total, &adders)) != FERRY_OK ||
        (s = tally_strong_count(tally, &strong)) != FERRY_OK)
        return fail("tally_read/tally_strong_count", s);
    printf("%d workers added %d each, the relay 1 per passed handle: total %llu from %llu "
           "threads\n",
           WORKERS, ADDS, (unsigned long long)total, (unsigned long long)adders);
    printf("after the joins: Arc::strong_count = %llu (main's handle only)\n",
           (unsigned long long)strong);
    if ((s = ferry_drop_as(Tally, tally)) != FERRY_OK)
        return fail("ferry_drop", s);
    printf("main dropped the last handle: Tally freed %llu time\n",
           (unsigned long long)tally_freed());

    ferry_counts c;
    ferry_ledger(Tally_type(), &c);
    printf("\nledger of tally.Tally: created %llu, cloned %llu, borrows %llu, handoffs %llu, "
           "taken %llu,\n  dropped_by_c %llu, dropped_by_rust %llu, live %llu\n",
           (unsigned long long)c.created, (unsigned long long)c.cloned,
           (unsigned long long)c.borrows, (unsigned long long)c.handoffs,
           (unsigned long long)c.taken, (unsigned long long)c.dropped_by_c,
           (unsigned long long)c.dropped_by_rust, (unsigned long long)c.live);

    /* Every handle made (created or cloned) ended exactly once (taken back
     * into an Arc, or dropped by either side), and the numbers the program
     * itself knows agree with what libferry and Rust counted. */
    int balanced = ok && c.live == 0 && ferry_live() == 0 &&
                   c.created + c.cloned == c.taken + c.dropped_by_c + c.dropped_by_rust &&
                   c.handoffs > 0 && c.dropped_by_c > 0 && c.dropped_by_rust > 0 && strong == 1 &&
                   total == (uint64_t)WORKERS * ADDS + WORKERS && adders == WORKERS + 1 &&
                   tally_freed() == 1;
    printf("%s\n", balanced ? "balanced" : "NOT BALANCED");
    return balanced ? 0 : 1;
}
