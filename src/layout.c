/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  What a process needs to know to handle a view's partial states:
 *	  their row type, which columns are group keys, how keys hash and
 *	  compare, and how states merge.
 *
 * Everything is derived from the view's partial-state view, the one
 * definition both layers compute: the batch runs it over the master, the
 * capture evaluates its expressions over the rows a statement inserted
 * (fold.c, which keeps what it prepares with the layout).
 *
 * A partial state row is a heap tuple of the batch table's row type: the
 * group keys, then one column per state.  Merging two rows of the same
 * group adds counts and sums (with the type's + operator), keeps the
 * smaller or larger min and max (with the type's btree order and the
 * column's collation), and merges other aggregates' states with their
 * combine functions (partial.c).  Group keys are equal when the type's
 * equality says so, as for GROUP BY, and NULL keys are equal to each
 * other.
 *
 * Layouts are cached per process for the life of the view, each in a
 * memory context of its own; a view's definition cannot change (ddl.c
 * refuses to replace it).  A relcache invalidation of the view, or a change
 * to any function (which the prepared expressions may call), builds it
 * again on next use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "layout.h"

static HTAB *layouts = NULL;

static void Retire(LambdaLayout *layout, MemoryContext context);
static void LayoutAtXactEnd(XactEvent event, void *arg);

static void LayoutBuild(LambdaLayout *layout);
static void LayoutInvalidate(Datum arg, Oid relid);
static void LayoutInvalidateAll(Datum arg, int cacheid, uint32 hashvalue);

/*
 * The layout of a view.  Needs a transaction; errors if viewid is not a
 * lambda view.
 */
LambdaLayout *
LayoutGet(Oid viewid)
{
	LambdaLayout *layout;
	bool		found;

	if (layouts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(LambdaLayout);
		layouts = hash_create("lambda layouts", 16, &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(LayoutInvalidate, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, LayoutInvalidateAll, (Datum) 0);
		RegisterXactCallback(LayoutAtXactEnd, NULL);
	}

	layout = hash_search(layouts, &viewid, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) layout) + sizeof(Oid), 0, sizeof(LambdaLayout) - sizeof(Oid));
		layout->valid = false;
	}
	if (!layout->valid)
	{
		LambdaLayout fresh;

		/*
		 * Build anew beside the old one, which a caller up the stack may
		 * still be using (LayoutPin): its memory goes only when no caller
		 * is.  A build that fails leaves the old one as it was.
		 */
		memset(&fresh, 0, sizeof(fresh));
		fresh.viewid = viewid;
		fresh.context = AllocSetContextCreate(TopMemoryContext, "lambda layout",
											  ALLOCSET_SMALL_SIZES);
		PG_TRY();
		{
			LayoutBuild(&fresh);
		}
		PG_CATCH();
		{
			MemoryContextDelete(fresh.context);
			if (!found)
				hash_search(layouts, &viewid, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
		fresh.pins = layout->pins;
		fresh.retired = layout->retired;
		if (layout->context != NULL)
			Retire(&fresh, layout->context);
		fresh.valid = true;
		*layout = fresh;
	}
	return layout;
}

/*
 * The layout of viewid if it is a lambda view, else NULL.
 */
LambdaLayout *
LayoutFind(Oid viewid)
{
	LambdaLayout *layout = NULL;
	LambdaViewEntry entry;
	bool		isView;

	if (layouts != NULL)
		layout = hash_search(layouts, &viewid, HASH_FIND, NULL);
	if (layout != NULL && layout->valid)
		return layout;

	SPI_connect();
	isView = CatalogGetView(viewid, &entry);
	SPI_finish();
	return isView ? LayoutGet(viewid) : NULL;
}

/*
 * Is there a valid layout of viewid, and is its view's id id?
 */
bool
LayoutHasId(Oid viewid, int64 id)
{
	LambdaLayout *layout = NULL;

	if (layouts != NULL)
		layout = hash_search(layouts, &viewid, HASH_FIND, NULL);
	return layout != NULL && layout->valid && layout->id == id;
}

/*
 * Relcache invalidation callback: a view that was dropped (or changed) is
 * built again on next use, so a new view that gets its OID never sees the
 * old one's layout; so is one whose master changed, whose rows the capture
 * reads with the master's row type.
 */
static void
LayoutInvalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	LambdaLayout *layout;

	hash_seq_init(&status, layouts);
	while ((layout = hash_seq_search(&status)) != NULL)
	{
		if (!OidIsValid(relid) || layout->viewid == relid ||
			layout->master == relid)
			layout->valid = false;
	}
}

/*
 * Syscache callback for pg_proc: the capture's prepared expressions may
 * call a function that was just replaced.
 */
static void
LayoutInvalidateAll(Datum arg, int cacheid, uint32 hashvalue)
{
	LayoutInvalidate(arg, InvalidOid);
}

/*
 * Forget a view's layout, when the view is gone (once no caller uses it).
 */
void
LayoutForget(Oid viewid)
{
	LambdaLayout *layout;
	ListCell   *lc;

	if (layouts == NULL)
		return;
	layout = hash_search(layouts, &viewid, HASH_FIND, NULL);
	if (layout == NULL)
		return;
	if (layout->pins > 0)
	{
		layout->valid = false;
		return;
	}
	if (layout->context != NULL)
		MemoryContextDelete(layout->context);
	foreach(lc, layout->retired)
		MemoryContextDelete(lfirst(lc));
	list_free(layout->retired);
	hash_search(layouts, &viewid, HASH_REMOVE, NULL);
}

/*
 * Keep a layout's memory while the caller uses it: code a capture or a
 * read runs (a key's function, a FILTER, a transition function, the outer
 * query between rows) may change a function or the view, and read the view
 * again, which builds its layout anew.  Unpinned by LayoutUnpin, or at the
 * end of the transaction whatever happened.
 */
void
LayoutPin(LambdaLayout *layout)
{
	layout->pins++;
}

void
LayoutUnpin(LambdaLayout *layout)
{
	ListCell   *lc;

	/* 0 already when the transaction ended first (a held cursor) */
	if (layout->pins == 0 || --layout->pins > 0)
		return;
	foreach(lc, layout->retired)
		MemoryContextDelete(lfirst(lc));
	list_free(layout->retired);
	layout->retired = NIL;
}

/*
 * A layout's old memory, replaced by a new build: freed now, or when its
 * last user unpins it.
 */
static void
Retire(LambdaLayout *layout, MemoryContext context)
{
	MemoryContext old;

	if (layout->pins == 0)
	{
		MemoryContextDelete(context);
		return;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	layout->retired = lappend(layout->retired, context);
	MemoryContextSwitchTo(old);
}

/*
 * At the end of a transaction no caller uses a layout any more, also after
 * an error that skipped its LayoutUnpin.
 */
static void
LayoutAtXactEnd(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS status;
	LambdaLayout *layout;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PREPARE && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT)
		return;
	hash_seq_init(&status, layouts);
	while ((layout = hash_seq_search(&status)) != NULL)
	{
		if (layout->pins > 0)
		{
			layout->pins = 1;
			LayoutUnpin(layout);
		}
	}
}

static void
LayoutBuild(LambdaLayout *layout)
{
	LambdaViewEntry entry;
	Relation	partial;
	Query	   *query;
	MemoryContext old;
	ListCell   *lc;
	int			natts;
	int			i;

	SPI_connect();
	CatalogGetViewOrError(layout->viewid, &entry);
	SPI_finish();

	partial = relation_open(entry.partialView, AccessShareLock);
	query = get_view_query(partial);

	old = MemoryContextSwitchTo(layout->context);

	layout->master = entry.master;
	layout->id = entry.id;
	layout->batchTable = entry.batchTable;
	layout->partialView = entry.partialView;
	layout->fold = NULL;
	layout->rels = find_all_inheritors(entry.master, NoLock, NULL);
	layout->fallible = false;
	layout->masterRte = NULL;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == entry.master &&
			rte->requiredPerms != 0)
			layout->masterRte = copyObject(rte);
	}
	if (layout->masterRte == NULL)
		elog(ERROR, "partial view of lambda view %u does not read its master",
			 layout->viewid);
	layout->desc = CreateTupleDescCopy(RelationGetDescr(partial));
	natts = layout->desc->natts;
	layout->isState = palloc0(sizeof(bool) * natts);
	layout->kinds = palloc0(sizeof(LambdaStateKind) * natts);
	layout->hashFn = palloc0(sizeof(FmgrInfo) * natts);
	layout->hasHash = palloc0(sizeof(bool) * natts);
	layout->eqFn = palloc0(sizeof(FmgrInfo) * natts);
	layout->mergeFn = palloc0(sizeof(FmgrInfo) * natts);
	layout->aggs = palloc0(sizeof(LambdaAggregate *) * natts);
	layout->nkeys = 0;

	i = 0;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Form_pg_attribute att;
		TypeCacheEntry *tce;

		if (tle->resjunk)
			continue;
		att = TupleDescAttr(layout->desc, i);

		if (IsA(tle->expr, Aggref))
		{
			Aggref	   *aggref = (Aggref *) tle->expr;
			Oid			aggfnoid;

			layout->isState[i] = true;
			if (!AggregateStateKindOf(aggref, &layout->kinds[i], &aggfnoid))
				elog(ERROR, "partial view of lambda view %u calls aggregate %u",
					 layout->viewid, aggref->aggfnoid);
			switch (layout->kinds[i])
			{
				case LAMBDA_STATE_COUNT:
					fmgr_info_cxt(F_INT8PL, &layout->mergeFn[i], layout->context);
					break;
				case LAMBDA_STATE_SUM:
					{
						Oid			oprid;

						if (att->atttypid == FLOAT4OID || att->atttypid == FLOAT8OID ||
							att->atttypid == CASHOID || att->atttypid == INTERVALOID)
							layout->fallible = true;
						oprid = OpernameGetOprid(list_make2(makeString("pg_catalog"),
															makeString("+")),
												 att->atttypid, att->atttypid);
						if (!OidIsValid(oprid))
							elog(ERROR, "no + operator for type %s",
								 format_type_be(att->atttypid));
						fmgr_info_cxt(get_opcode(oprid), &layout->mergeFn[i], layout->context);
						break;
					}
				case LAMBDA_STATE_MIN:
				case LAMBDA_STATE_MAX:
					tce = lookup_type_cache(att->atttypid, TYPECACHE_CMP_PROC_FINFO);
					if (!OidIsValid(tce->cmp_proc))
						elog(ERROR, "no btree order for type %s",
							 format_type_be(att->atttypid));
					fmgr_info_copy(&layout->mergeFn[i], &tce->cmp_proc_finfo, layout->context);
					break;
				case LAMBDA_STATE_GENERIC:
					/* a combine function can fail where the query does not */
					layout->fallible = true;
					layout->aggs[i] = PartialLookup(aggfnoid, aggref->inputcollid,
													  layout->context);
					break;
			}
		}
		else
		{
			layout->nkeys++;
			tce = lookup_type_cache(att->atttypid,
									TYPECACHE_HASH_PROC_FINFO | TYPECACHE_EQ_OPR_FINFO);
			if (!OidIsValid(tce->eq_opr))
				elog(ERROR, "no equality operator for type %s",
					 format_type_be(att->atttypid));
			fmgr_info_copy(&layout->eqFn[i], &tce->eq_opr_finfo, layout->context);
			if (OidIsValid(tce->hash_proc))
			{
				layout->hasHash[i] = true;
				fmgr_info_copy(&layout->hashFn[i], &tce->hash_proc_finfo, layout->context);
			}
		}
		i++;
	}
	if (i != natts)
		elog(ERROR, "partial view of lambda view %u has %d columns, expected %d",
			 layout->viewid, natts, i);

	MemoryContextSwitchTo(old);
	relation_close(partial, AccessShareLock);
}

/*
 * Refuse a batch table whose row type is not the layout's.  Lambda reads
 * and writes batch tables in C, trusting their row type: one altered by a
 * superuser must give an error here, never a datum read as another type.
 */
void
LayoutCheckBatchTable(LambdaLayout *layout, Relation batch)
{
	TupleDesc	desc = RelationGetDescr(batch);
	bool		ok = desc->natts == layout->desc->natts;
	int			i;

	for (i = 0; ok && i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);
		Form_pg_attribute b = TupleDescAttr(layout->desc, i);

		ok = !a->attisdropped && a->atttypid == b->atttypid &&
			a->attlen == b->attlen && a->attbyval == b->attbyval &&
			a->attalign == b->attalign;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch table of lambda view \"%s\" does not have the view's partial state columns",
						get_rel_name(layout->viewid)),
				 errdetail("Table \"%s\" was altered outside lambda.",
						   RelationGetRelationName(batch)),
				 errhint("Drop the view with lambda.drop_view() and create it again.")));
}

/*
 * Hash of a partial state row's group keys.
 */
uint32
LayoutHashKeys(LambdaLayout *layout, Datum *values, bool *isnull)
{
	uint32		hash = 0;
	int			i;

	for (i = 0; i < layout->desc->natts; i++)
	{
		uint32		h = 0x5bd1e995;

		if (layout->isState[i])
			continue;
		if (!isnull[i] && layout->hasHash[i])
			h = DatumGetUInt32(FunctionCall1Coll(&layout->hashFn[i],
												 TupleDescAttr(layout->desc, i)->attcollation,
												 values[i]));
		hash = hash_combine(hash, h);
	}
	return hash;
}

/*
 * Do two rows belong to the same group?
 */
bool
LayoutKeysEqual(LambdaLayout *layout, Datum *a, bool *anull, Datum *b, bool *bnull)
{
	return LayoutPrefixEqual(layout, layout->nkeys, a, anull, b, bnull);
}

/*
 * Do two rows agree on their first nprefix group keys?  (The group keys are
 * the first columns of a partial state row.)
 */
bool
LayoutPrefixEqual(LambdaLayout *layout, int nprefix, Datum *a, bool *anull,
				  Datum *b, bool *bnull)
{
	int			i;

	for (i = 0; i < nprefix; i++)
	{
		Assert(!layout->isState[i]);
		if (anull[i] != bnull[i])
			return false;
		if (anull[i])
			continue;
		if (!DatumGetBool(FunctionCall2Coll(&layout->eqFn[i],
											TupleDescAttr(layout->desc, i)->attcollation,
											a[i], b[i])))
			return false;
	}
	return true;
}

/*
 * Does tuple, a partial state row, have these first nprefix group keys?
 */
bool
LayoutTupleHasKey(LambdaLayout *layout, HeapTuple tuple, int nprefix,
				  Datum *key, bool *keynull)
{
	int			natts = layout->desc->natts;
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *isnull = palloc(sizeof(bool) * natts);
	bool		match;

	heap_deform_tuple(tuple, layout->desc, values, isnull);
	match = LayoutPrefixEqual(layout, nprefix, values, isnull, key, keynull);
	pfree(values);
	pfree(isnull);
	return match;
}

/*
 * An empty table of groups, with nbuckets buckets, in the current memory
 * context.  Its groups are groupSize bytes (at least sizeof(LayoutGroup));
 * what follows the LayoutGroup is zeroed.
 */
LayoutGroups *
LayoutGroupsCreate(LambdaLayout *layout, uint32 nbuckets, Size groupSize)
{
	LayoutGroups *groups = palloc0(sizeof(LayoutGroups));

	Assert(groupSize >= sizeof(LayoutGroup));
	groups->layout = layout;
	groups->groupSize = groupSize;
	groups->nbuckets = Max(nbuckets, 16);
	groups->buckets = palloc0(sizeof(LayoutGroup *) * groups->nbuckets);
	return groups;
}

/*
 * The group of a row whose keys hash to hash, or NULL.
 */
LayoutGroup *
LayoutGroupsFind(LayoutGroups *groups, uint32 hash, Datum *values, bool *isnull)
{
	LayoutGroup *g;

	for (g = groups->buckets[hash % groups->nbuckets]; g != NULL; g = g->next)
	{
		if (g->hash == hash &&
			LayoutKeysEqual(groups->layout, g->values, g->isnull, values, isnull))
			return g;
	}
	return NULL;
}

/*
 * Add a partial state row: merged into its group, or a new group.  Values
 * are allocated in the current memory context.
 */
LayoutGroup *
LayoutGroupsAdd(LayoutGroups *groups, HeapTuple tuple)
{
	LambdaLayout *layout = groups->layout;
	int			natts = layout->desc->natts;
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *isnull = palloc(sizeof(bool) * natts);
	uint32		hash;
	LayoutGroup *g;

	heap_deform_tuple(tuple, layout->desc, values, isnull);
	hash = LayoutHashKeys(layout, values, isnull);
	g = LayoutGroupsFind(groups, hash, values, isnull);
	if (g != NULL)
	{
		LayoutMerge(layout, g->values, g->isnull, values, isnull);
		return g;
	}
	g = palloc0(groups->groupSize);
	g->hash = hash;
	g->values = values;
	g->isnull = isnull;
	g->next = groups->buckets[hash % groups->nbuckets];
	groups->buckets[hash % groups->nbuckets] = g;
	groups->groups = lappend(groups->groups, g);

	/* Keep chains short: twice the buckets when they average two groups */
	if (list_length(groups->groups) > groups->nbuckets * 2)
	{
		uint32		nbuckets = groups->nbuckets * 2;
		LayoutGroup **buckets = palloc0(sizeof(LayoutGroup *) * nbuckets);
		ListCell   *lc;

		foreach(lc, groups->groups)
		{
			LayoutGroup *each = lfirst(lc);

			each->next = buckets[each->hash % nbuckets];
			buckets[each->hash % nbuckets] = each;
		}
		pfree(groups->buckets);
		groups->buckets = buckets;
		groups->nbuckets = nbuckets;
	}
	return g;
}

/*
 * Merge the states of row b into row a, in place.  Results are allocated in
 * the current memory context.
 */
void
LayoutMerge(LambdaLayout *layout, Datum *a, bool *anull, Datum *b, bool *bnull)
{
	int			i;

	for (i = 0; i < layout->desc->natts; i++)
	{
		Oid			collation = TupleDescAttr(layout->desc, i)->attcollation;

		if (!layout->isState[i] || bnull[i])
			continue;
		if (anull[i])
		{
			a[i] = b[i];
			anull[i] = false;
			continue;
		}
		switch (layout->kinds[i])
		{
			case LAMBDA_STATE_COUNT:
			case LAMBDA_STATE_SUM:
				a[i] = FunctionCall2Coll(&layout->mergeFn[i], collation, a[i], b[i]);
				break;
			/*
			 * Of two values that compare equal but differ (1.0 and 1.00,
			 * '1 day' and '24 hours'), take b, the newer, as PostgreSQL's
			 * min() and max() keep the last of them a scan meets.
			 */
			case LAMBDA_STATE_MIN:
				if (DatumGetInt32(FunctionCall2Coll(&layout->mergeFn[i], collation,
													b[i], a[i])) <= 0)
					a[i] = b[i];
				break;
			case LAMBDA_STATE_MAX:
				if (DatumGetInt32(FunctionCall2Coll(&layout->mergeFn[i], collation,
													b[i], a[i])) >= 0)
					a[i] = b[i];
				break;
			case LAMBDA_STATE_GENERIC:
				a[i] = PartialMergeStates(layout->aggs[i], a[i], b[i]);
				break;
		}
	}
}
