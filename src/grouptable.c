/*-------------------------------------------------------------------------
 *
 * grouptable.c
 *	  A generation's settled partial states: a hash table of groups in the
 *	  speed layer's shared memory.
 *
 * Each generation (speed.c) keeps the partial state rows of the
 * transactions it does not cover, one row per group, in a chained hash
 * table in the speed layer's DSA area: an array of buckets, each a list of
 * entries holding a row's hash and its tuple bytes.  Keys are compared
 * with the key types' own equality (as GROUP BY does: NULL keys are equal)
 * and rows merged with LayoutMerge (layout.c).  The table doubles its
 * buckets when they hold two entries on average; a table that cannot grow
 * only gets slower.
 *
 * Merging is all or nothing: every merged row is allocated first, and only
 * when all of them fit do they replace the table's entries.  The speed
 * layer never raises an error for want of memory (a commit hands its
 * deltas off, and a worker settles them, whatever memory is left): when a
 * merge does not fit, the table is unchanged and the delta stays pending.
 *
 * Why not PostgreSQL's dshash?  Its entries and keys are of a fixed size,
 * where these rows are not (text keys, numeric and serialized aggregate
 * states); it allocates with errors on exhaustion, and has no way to
 * allocate a whole merge before changing anything; and its partition locks
 * would duplicate the view's lock, under which every use of the table
 * already happens (readers shared, settling exclusive), and which decides
 * for a whole read which generation a snapshot resolves to.
 *
 * Locking: the caller holds the lock of the view whose generation holds
 * the table, shared to read, exclusively to change it (speed.c says what
 * may run meanwhile).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "utils/memutils.h"

#include "grouptable.h"
#include "shmem.h"

/* One group */
typedef struct GroupEntry
{
	dsa_pointer next;			/* in its bucket */
	uint32		hash;
	uint32		len;
	/* tuple bytes follow, aligned */
} GroupEntry;

#define ENTRY_DATA(e)		((char *) (e) + MAXALIGN(sizeof(GroupEntry)))
#define ENTRY_SIZE(len)		(MAXALIGN(sizeof(GroupEntry)) + (len))

/* One group of the rows being merged */
typedef struct MergeGroup
{
	LayoutGroup group;			/* keys and states */
	dsa_pointer old;			/* the table's entry it merges into */
	dsa_pointer new;			/* the entry that replaces it */
} MergeGroup;

#define WRITE(file, ptr, len)	(fwrite((ptr), (len), 1, (file)) == 1)
#define READ(file, ptr, len)	(fread((ptr), (len), 1, (file)) == 1)

static void GrowBuckets(dsa_area *dsa, GroupTable *table);

/*
 * An empty table of nbuckets buckets; false when memory ran out.
 */
bool
GroupTableInit(dsa_area *dsa, GroupTable *table, uint32 nbuckets)
{
	table->buckets = SharedAllocate(dsa, sizeof(dsa_pointer) * nbuckets, DSA_ALLOC_ZERO);
	table->nbuckets = nbuckets;
	table->nentries = 0;
	table->bytes = sizeof(dsa_pointer) * nbuckets;
	return DsaPointerIsValid(table->buckets);
}

/*
 * Free the table's entries and buckets.
 */
void
GroupTableFree(dsa_area *dsa, GroupTable *table)
{
	dsa_pointer *buckets;
	uint32		i;

	if (!DsaPointerIsValid(table->buckets))
		return;
	buckets = dsa_get_address(dsa, table->buckets);
	for (i = 0; i < table->nbuckets; i++)
	{
		dsa_pointer dp = buckets[i];

		while (DsaPointerIsValid(dp))
		{
			GroupEntry *entry = dsa_get_address(dsa, dp);
			dsa_pointer next = entry->next;

			SharedFree(dsa, dp);
			dp = next;
		}
	}
	SharedFree(dsa, table->buckets);
	table->buckets = InvalidDsaPointer;
	table->nentries = 0;
	table->bytes = 0;
}

/*
 * Emit the table's rows; with nprefix > 0, only those whose first nprefix
 * keys are those of key (one bucket when every key is given).  The rows lie
 * in shared memory: emit copies what it keeps.
 */
void
GroupTableRead(dsa_area *dsa, GroupTable *table, LambdaLayout *layout, int nprefix,
			   Datum *key, bool *keynull, GroupTableEmit emit, void *arg)
{
	dsa_pointer *buckets = dsa_get_address(dsa, table->buckets);
	bool		probe = nprefix > 0 && nprefix == layout->nkeys;
	uint32		hash = probe ? LayoutHashKeys(layout, key, keynull) : 0;
	uint32		first = probe ? hash % table->nbuckets : 0;
	uint32		end = probe ? first + 1 : table->nbuckets;
	HeapTupleData tuple;
	uint32		i;

	tuple.t_tableOid = InvalidOid;
	ItemPointerSetInvalid(&tuple.t_self);
	for (i = first; i < end; i++)
	{
		dsa_pointer dp;

		for (dp = buckets[i]; DsaPointerIsValid(dp);)
		{
			GroupEntry *entry = dsa_get_address(dsa, dp);

			tuple.t_len = entry->len;
			tuple.t_data = (HeapTupleHeader) ENTRY_DATA(entry);
			if (nprefix == 0 ||
				((!probe || entry->hash == hash) &&
				 LayoutTupleHasKey(layout, &tuple, nprefix, key, keynull)))
				emit(&tuple, arg);
			dp = entry->next;
		}
	}
}

/*
 * Merge nrows partial state rows into the table, all or nothing: false when
 * memory ran out, the table then unchanged.  Works in tmp, which the caller
 * resets.
 */
bool
GroupTableMerge(dsa_area *dsa, GroupTable *table, LambdaLayout *layout,
				HeapTupleData *rows, int nrows, MemoryContext tmp)
{
	MemoryContext old = MemoryContextSwitchTo(tmp);
	int			natts = layout->desc->natts;
	LayoutGroups *local = LayoutGroupsCreate(layout, nrows, sizeof(MergeGroup));
	Datum	   *evalues = palloc(sizeof(Datum) * natts);
	bool	   *eisnull = palloc(sizeof(bool) * natts);
	dsa_pointer *buckets = dsa_get_address(dsa, table->buckets);
	ListCell   *lc;
	int			i;
	bool		ok = true;

	/* The rows by group */
	for (i = 0; i < nrows; i++)
		LayoutGroupsAdd(local, &rows[i]);

	/* Merge each group with the table's entry, into new memory */
	foreach(lc, local->groups)
	{
		MergeGroup *g = lfirst(lc);
		HeapTuple	merged;
		GroupEntry *entry;
		dsa_pointer dp;

		for (dp = buckets[g->group.hash % table->nbuckets]; DsaPointerIsValid(dp);)
		{
			entry = dsa_get_address(dsa, dp);
			if (entry->hash == g->group.hash)
			{
				HeapTupleData etuple;

				etuple.t_len = entry->len;
				etuple.t_data = (HeapTupleHeader) ENTRY_DATA(entry);
				heap_deform_tuple(&etuple, layout->desc, evalues, eisnull);
				if (LayoutKeysEqual(layout, evalues, eisnull, g->group.values, g->group.isnull))
				{
					LayoutMerge(layout, evalues, eisnull, g->group.values, g->group.isnull);
					memcpy(g->group.values, evalues, sizeof(Datum) * natts);
					memcpy(g->group.isnull, eisnull, sizeof(bool) * natts);
					g->old = dp;
					break;
				}
			}
			dp = entry->next;
		}

		merged = heap_form_tuple(layout->desc, g->group.values, g->group.isnull);
		g->new = SharedAllocate(dsa, ENTRY_SIZE(merged->t_len), 0);
		if (!DsaPointerIsValid(g->new))
		{
			ok = false;
			break;
		}
		entry = dsa_get_address(dsa, g->new);
		entry->hash = g->group.hash;
		entry->len = merged->t_len;
		memcpy(ENTRY_DATA(entry), merged->t_data, merged->t_len);
	}

	if (!ok)
	{
		foreach(lc, local->groups)
		{
			MergeGroup *g = lfirst(lc);

			if (DsaPointerIsValid(g->new))
				SharedFree(dsa, g->new);
		}
	}
	else
	{
		/* All fit: swap them in */
		foreach(lc, local->groups)
		{
			MergeGroup *g = lfirst(lc);
			GroupEntry *entry = dsa_get_address(dsa, g->new);
			dsa_pointer *link = &buckets[g->group.hash % table->nbuckets];

			table->bytes += ENTRY_SIZE(entry->len);
			if (DsaPointerIsValid(g->old))
			{
				GroupEntry *oldentry = dsa_get_address(dsa, g->old);

				while (*link != g->old)
					link = &((GroupEntry *) dsa_get_address(dsa, *link))->next;
				entry->next = oldentry->next;
				*link = g->new;
				table->bytes -= ENTRY_SIZE(oldentry->len);
				SharedFree(dsa, g->old);
			}
			else
			{
				entry->next = *link;
				*link = g->new;
				table->nentries++;
			}
		}
		if (table->nentries > (int64) table->nbuckets * 2)
			GrowBuckets(dsa, table);
	}

	MemoryContextSwitchTo(old);
	return ok;
}

/*
 * Double the table's buckets, if memory allows; a full table only gets
 * slower.
 */
static void
GrowBuckets(dsa_area *dsa, GroupTable *table)
{
	uint32		nbuckets = table->nbuckets * 2;
	dsa_pointer newdp = SharedAllocate(dsa, sizeof(dsa_pointer) * nbuckets, DSA_ALLOC_ZERO);
	dsa_pointer *oldb;
	dsa_pointer *newb;
	uint32		i;

	if (!DsaPointerIsValid(newdp))
		return;
	oldb = dsa_get_address(dsa, table->buckets);
	newb = dsa_get_address(dsa, newdp);
	for (i = 0; i < table->nbuckets; i++)
	{
		dsa_pointer dp = oldb[i];

		while (DsaPointerIsValid(dp))
		{
			GroupEntry *entry = dsa_get_address(dsa, dp);
			dsa_pointer next = entry->next;

			entry->next = newb[entry->hash % nbuckets];
			newb[entry->hash % nbuckets] = dp;
			dp = next;
		}
	}
	SharedFree(dsa, table->buckets);
	table->bytes += sizeof(dsa_pointer) * (nbuckets - table->nbuckets);
	table->buckets = newdp;
	table->nbuckets = nbuckets;
}

/*
 * The entries GroupTableSave writes: those in the buckets, whatever
 * nentries says.
 */
int64
GroupTableSaveCount(dsa_area *dsa, GroupTable *table)
{
	dsa_pointer *buckets = dsa_get_address(dsa, table->buckets);
	int64		n = 0;
	uint32		i;

	for (i = 0; i < table->nbuckets; i++)
	{
		dsa_pointer dp;

		for (dp = buckets[i]; DsaPointerIsValid(dp);
			 dp = ((GroupEntry *) dsa_get_address(dsa, dp))->next)
			n++;
	}
	return n;
}

/*
 * Write the table's entries to file (persist.c), values only: each its
 * hash, length and tuple bytes.  False when the file could not be written.
 */
bool
GroupTableSave(dsa_area *dsa, GroupTable *table, FILE *file)
{
	dsa_pointer *buckets = dsa_get_address(dsa, table->buckets);
	bool		ok = true;
	uint32		i;

	for (i = 0; ok && i < table->nbuckets; i++)
	{
		dsa_pointer dp;

		for (dp = buckets[i]; ok && DsaPointerIsValid(dp);)
		{
			GroupEntry *entry = dsa_get_address(dsa, dp);

			ok = WRITE(file, &entry->hash, sizeof(uint32)) &&
				WRITE(file, &entry->len, sizeof(uint32)) &&
				WRITE(file, ENTRY_DATA(entry), entry->len);
			dp = entry->next;
		}
	}
	return ok;
}

/*
 * Read nentries entries GroupTableSave wrote into table, made by
 * GroupTableInit.  False when the file is short or memory ran out; what was
 * read is in the table, for the caller to free.
 */
bool
GroupTableLoad(dsa_area *dsa, GroupTable *table, FILE *file, int64 nentries)
{
	dsa_pointer *buckets = dsa_get_address(dsa, table->buckets);
	bool		ok = true;
	int64		e;

	for (e = 0; ok && e < nentries; e++)
	{
		uint32		hash;
		uint32		len;
		dsa_pointer dp;
		GroupEntry *entry;

		ok = READ(file, &hash, sizeof(uint32)) && READ(file, &len, sizeof(uint32)) &&
			AllocSizeIsValid(len);
		if (!ok)
			break;
		dp = SharedAllocate(dsa, ENTRY_SIZE(len), 0);
		if (!DsaPointerIsValid(dp))
			return false;
		entry = dsa_get_address(dsa, dp);
		entry->hash = hash;
		entry->len = len;
		entry->next = buckets[hash % table->nbuckets];
		buckets[hash % table->nbuckets] = dp;
		table->nentries++;
		table->bytes += ENTRY_SIZE(len);
		ok = READ(file, ENTRY_DATA(entry), len);
	}
	return ok;
}
