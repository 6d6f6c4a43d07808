# A bounded randomized stress run.
#
# Lambda views on one master with different group keys (one with none, one
# with NULL keys) and aggregates (count(*), count(x) over NULLs, sum, avg,
# min, max, FILTER, WHERE; generic aggregates by their own combine
# functions, an expression over aggregates, HAVING).  For a fixed time,
# concurrently:
#
#	- 4 writer sessions (pgbench, at most 120 transactions/s) run
#	  transactions of random size; some roll back, some roll back a
#	  savepoint (after a nested one was released) or release one, some
#	  prepare and, after a pause in which batches run, commit or roll back
#	  the prepared transaction;
#	- 3 other sessions (pgbench) run lambda.run_batch or lambda.compact of
#	  a random view at random moments (one in five in a transaction that
#	  rolls back), while the workers compact views past a low
#	  lambda.compact_threshold, and
#	  read: in one REPEATABLE READ transaction, the view with
#	  lambda.fast_path (one statement), the view's query on the master
#	  (another), the view again after a random pause (batches publish and
#	  the worker settles and drops generations meanwhile), and the
#	  difference of view and query (a fourth).  Every read is recorded.
#
# Then: no read saw a difference or a change within its snapshot, no
# pgbench client failed, reads used the fast path; after the writes stop,
# every view comes back on the fast path and is exact, also after a final
# batch.
#
# Phase 1 runs with the default speed memory; phase 2 restarts with the
# minimum, 1MB, and adds a view with a group per (third) row, whose speed
# layer overflows again and again under the same load: reads stay exact,
# and the fast path comes back once the writes stop.
#
# LAMBDA_STRESS_SECONDS (default 35; phase 2 runs half as long) and
# LAMBDA_STRESS_SEED (pgbench's --random-seed) vary it.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $seconds = $ENV{LAMBDA_STRESS_SECONDS} // 35;
my $seconds2 = int($seconds / 2);
my $seed = $ENV{LAMBDA_STRESS_SEED} // (time() % 100000);
note("stress runs of $seconds s and $seconds2 s, pgbench --random-seed=$seed");

my $node = lambda_node('stress');

sub sql { return $node->safe_psql('postgres', $_[0]) }

my %views = (
	v_grp => q{SELECT grp, count(*) AS n, count(qty) AS n_qty, sum(amount) AS total,
	                  avg(amount) AS avg_amount, min(amount) AS lo, max(amount) AS hi,
	                  sum(qty) AS qty_total, avg(qty) AS avg_qty,
	                  count(*) FILTER (WHERE amount > 50) AS n_big, max(sub) AS last_sub
	           FROM events GROUP BY grp},
	v_sub => q{SELECT sub, qty % 3 AS bucket, count(*) AS n, min(qty) AS lo_qty, max(qty) AS hi_qty,
	                  sum(amount) FILTER (WHERE qty IS NULL) AS no_qty_amount,
	                  avg(amount) AS avg_amount, count(sub) AS n_sub
	           FROM events WHERE amount > 10 GROUP BY sub, qty % 3},
	v_gen => q{SELECT grp % 5 AS g5, variance(amount) AS var_amount, stddev_pop(qty) AS sd_qty,
	                  bool_and(qty > 100) AS all_big, bit_or(qty) AS qty_bits,
	                  sum(amount) / nullif(count(*), 0) AS mean,
	                  count(*) FILTER (WHERE sub IS NULL) * 2 AS no_sub2
	           FROM events GROUP BY grp % 5 HAVING count(*) > 3},
	v_all => q{SELECT count(*) AS n, sum(amount) AS total, avg(qty) AS avg_qty,
	                  min(id) AS first_id, max(id) AS last_id, count(qty) AS n_qty
	           FROM events},
);
my @names = sort keys %views;

# one random row of the master, as a SELECT list over generate_series
my $row = q{(random() * 30)::int,
	CASE WHEN random() < 0.1 THEN NULL ELSE 's' || (random() * 15)::int END,
	round((random() * 100)::numeric, 2),
	CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 1000)::int END};
my $insert = "INSERT INTO events (grp, sub, amount, qty) SELECT $row FROM generate_series(1, :n);";

sql(qq{
	CREATE EXTENSION lambda;
	CREATE TABLE events (id bigserial NOT NULL, grp int NOT NULL, sub text, amount numeric, qty int);
	SELECT lambda.create_master('events');
	INSERT INTO events (grp, sub, amount, qty) SELECT $row FROM generate_series(1, 3000);
	CREATE TABLE stress_reads (phase text, view text, fast boolean, same boolean, differences bigint);
	CREATE TABLE stress_diag (view text, side text, row_text text);
});
foreach my $name (@names)
{
	sql(qq{SELECT lambda.create_view('$name', \$\$ $views{$name} \$\$)});
	ok(wait_fast($node, $name, 30), "$name on the fast path");
	is(exact($node, $name, $views{$name}), 't|0', "$name exact at the start");
}

# --- pgbench scripts ------------------------------------------------------

my $dir = PostgreSQL::Test::Utils::tempdir;

my $writer = <<"EOS";
\\set n random(1, 60)
\\set r random(1, 100)
\\set sp random(1, 100)
BEGIN;
$insert
\\if :sp <= 25
SAVEPOINT s1;
$insert
SAVEPOINT s2;
$insert
RELEASE SAVEPOINT s2;
ROLLBACK TO SAVEPOINT s1;
\\elif :sp <= 50
SAVEPOINT s1;
$insert
RELEASE SAVEPOINT s1;
\\endif
$insert
\\if :r <= 15
ROLLBACK;
\\else
COMMIT;
\\endif
EOS

my $prepared = <<"EOS";
\\set n random(1, 30)
\\set r random(1, 2)
\\set g random(1, 1000000000)
BEGIN;
$insert
PREPARE TRANSACTION 'stress-:client_id-:g';
\\sleep 200 ms
\\if :r = 1
COMMIT PREPARED 'stress-:client_id-:g';
\\else
ROLLBACK PREPARED 'stress-:client_id-:g';
\\endif
EOS

# Write the batch and reader scripts for the given views; returns their
# file names.
sub view_scripts
{
	my ($label, $read, $batched) = @_;
	my @names = @$read;
	my $n = scalar @names;
	my $nb = scalar @$batched;
	my $batch = "\\set which random(1, $nb)\n\\set r random(1, 5)\n\\set op random(1, 2)\n"
	  . "\\if :r = 1\nBEGIN;\n\\endif\n";
	my $reader = "\\set which random(1, $n)\n\\set pause random(0, 100)\n"
	  . "BEGIN ISOLATION LEVEL REPEATABLE READ;\n";
	my $agg = q{hashtext(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))};

	for my $i (0 .. $n - 1)
	{
		my $name = $names[$i];
		my $query = $views{$name};
		$query =~ s/\s+/ /g;
		my $cond = ($i == 0 ? "\\if" : "\\elif") . " :which = " . ($i + 1) . "\n";

		# the view with fast_path in one statement; the query on the master
		# in another; the view again after a pause (batches publish, the
		# worker settles and drops meanwhile); the difference in a fourth
		$reader .= $cond . <<"EOS";
SELECT CASE WHEN lambda.fast_path('$name') THEN 1 ELSE 0 END AS fast, $agg AS h FROM $name t \\gset a_
SELECT $agg AS h FROM ($query) t \\gset b_
\\sleep :pause ms
SELECT $agg AS h FROM $name t \\gset a2_
SELECT count(*) AS d FROM ((SELECT t::text FROM $name t EXCEPT ALL SELECT t::text FROM ($query) t) UNION ALL (SELECT t::text FROM ($query) t EXCEPT ALL SELECT t::text FROM $name t)) x \\gset c_
\\if :c_d > 0 or :a_h <> :b_h or :a2_h <> :a_h
INSERT INTO stress_diag SELECT '$name', 'view', t::text FROM (SELECT t::text FROM $name t EXCEPT ALL SELECT t::text FROM ($query) t) t;
INSERT INTO stress_diag SELECT '$name', 'query', t::text FROM (SELECT t::text FROM ($query) t EXCEPT ALL SELECT t::text FROM $name t) t;
\\endif
INSERT INTO stress_reads VALUES ('$label', '$name', :a_fast = 1, :a_h = :b_h AND :a2_h = :a_h, :c_d);
EOS
	}
	for my $i (0 .. $nb - 1)
	{
		# a batch, or a compaction (refused, 55000, while the view is on
		# the slow path: only a batch is exact then)
		$batch .= ($i == 0 ? "\\if" : "\\elif") . " :which = " . ($i + 1) . "\n"
		  . "\\if :op = 1\nSELECT lambda.run_batch('$batched->[$i]');\n\\else\n"
		  . "DO \$\$ BEGIN PERFORM lambda.compact('$batched->[$i]'); "
		  . "EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL; END \$\$;\n\\endif\n";
	}
	# now and then an ANALYZE of the master, which invalidates its relcache
	# entry (and trigger descriptor) under the writers' captures
	$batch .= "\\endif\n\\if :r = 2\nANALYZE events;\n\\endif\n"
	  . "\\if :r = 1\n\\sleep 20 ms\nROLLBACK;\n\\endif\n\\sleep 100 ms\n";
	$reader .= "\\endif\nCOMMIT;\n";

	PostgreSQL::Test::Utils::append_to_file("$dir/batch_$label.sql", $batch);
	PostgreSQL::Test::Utils::append_to_file("$dir/reader_$label.sql", $reader);
	return ("$dir/batch_$label.sql", "$dir/reader_$label.sql");
}

PostgreSQL::Test::Utils::append_to_file("$dir/writer.sql", $writer);
PostgreSQL::Test::Utils::append_to_file("$dir/prepared.sql", $prepared);

# --- a run ------------------------------------------------------------------

# Run writers, readers and batches of the given views for the given time,
# check what the readers saw, then that every view comes back on the fast
# path, exact.
sub stress_run
{
	my ($label, $seconds, $read, $batched) = @_;
	my @names = @$read;
	my ($batchfile, $readerfile) = view_scripts($label, $read, $batched);
	my %seen;
	my @common = ('pgbench', '-n', '-T', $seconds, "--random-seed=$seed",
		'-h', $node->host, '-p', $node->port);
	my ($wout, $werr, $rout, $rerr) = ('', '', '', '');
	my $writers = IPC::Run::start(
		[ @common, '-c', 4, '-j', 2, '-R', 120,
		  '-f', "$dir/writer.sql\@12", '-f', "$dir/prepared.sql\@1", 'postgres' ],
		'>', \$wout, '2>', \$werr);
	my $others = IPC::Run::start(
		[ @common, '-c', 3, '-j', 1, '-f', "$readerfile\@5", '-f', "$batchfile\@1", 'postgres' ],
		'>', \$rout, '2>', \$rerr);
	# meanwhile, note the speed states lambda.views shows
	for (;;)
	{
		my $running = 0;
		foreach my $h ($writers, $others)
		{
			next unless $h->pumpable;
			$running = 1;
			eval { $h->pump_nb };
		}
		last unless $running;
		foreach my $state (split /\n/, sql(q{
			SELECT view || ':' || speed_state || '|' || CASE WHEN lambda.fast_path(view) THEN 't' ELSE 'f' END
			FROM lambda.views}))
		{
			$seen{$state}++;
		}
		usleep(200_000);
	}
	my $wok = $writers->finish;
	my $rok = $others->finish;
	note("$label: speed states seen: " . join(', ', map { "$_ x$seen{$_}" } sort keys %seen));
	is(join(', ', grep { /:ready\|f$/ } sort keys %seen), '',
		"$label: lambda.views never said 'ready' while a view was on the slow path");

	ok($wok, "$label: writers' pgbench succeeded") or diag($werr);
	ok($rok, "$label: readers' and batches' pgbench succeeded") or diag($rerr);
	note("$label: writers:\n$wout\nreaders and batches:\n$rout");
	unlike($werr . $rerr, qr/aborted|ERROR/, "$label: no client aborted, no error");

	# any prepared transaction left by the end of the run: resolve it
	foreach my $gid (split /\n/, sql(q{SELECT gid FROM pg_prepared_xacts}))
	{
		sql(qq{COMMIT PREPARED '$gid'});
	}

	my $reads = sql(qq{SELECT count(*) FROM stress_reads WHERE phase = '$label'});
	cmp_ok($reads, '>=', 10, "$label: readers made $reads checked reads");
	is(sql(qq{SELECT count(*) FROM stress_reads WHERE phase = '$label' AND (NOT same OR differences > 0)}),
		'0', "$label: every read equals the query on the master under the same snapshot, and is repeatable")
	  or diag(sql(q{SELECT view, side, row_text FROM stress_diag ORDER BY 1, 2, 3 LIMIT 40}));
	note(sql(qq{SELECT view || ': ' || count(*) || ' reads, ' || count(*) FILTER (WHERE fast) || ' fast'
	            FROM stress_reads WHERE phase = '$label' GROUP BY view ORDER BY view}));

	foreach my $name (@names)
	{
		ok(wait_fast($node, $name, 60), "$label: $name back on the fast path after the run");
		is(exact($node, $name, $views{$name}), 't|0', "$label: $name exact on the fast path after the run");
	}
	return \%seen;
}

# --- phase 1: the four views, the default speed memory --------------------

# the workers compact a view past 32 kB of settled states, so that their
# compactions race the writers, readers, batches and compactions too
$node->append_conf('postgresql.conf', "lambda.compact_threshold = 0.0005\n");
$node->reload;
my $versions = sql(q{SELECT sum(batch_version) FROM lambda.views});
stress_run('default', $seconds, \@names, \@names);
cmp_ok(sql(q{SELECT sum(compactions) FROM lambda.views}), '>', 3, 'compactions ran during the run');
foreach my $name (@names)
{
	cmp_ok(sql(qq{SELECT count(*) FROM stress_reads WHERE fast AND view = '$name'}), '>', 0,
		"reads of $name used the fast path");
}
cmp_ok(sql(q{SELECT sum(batch_version) FROM lambda.views}), '>', $versions + 3,
	'batches ran during the run');
foreach my $name (@names)
{
	sql(qq{SELECT lambda.run_batch('$name')});
	is(exact($node, $name, $views{$name}), 't|0', "$name exact on the fast path after a final batch");
}

# --- phase 2: 1MB of speed memory and a view with a group per row ---------
#
# v_id's speed layer outgrows the memory within seconds: the view must stay
# exact while it overflows and the worker rebuilds it, under the same load.

$node->append_conf('postgresql.conf', "lambda.speed_memory = 1024\n");
$node->restart;
# a group per third row inserted from now on; only the worker runs its
# batches, so that its speed layer grows
my $maxid = sql(q{SELECT max(id) FROM events});
$views{v_id} = qq{SELECT id, count(*) AS n, sum(amount) AS total, max(qty) AS hi_qty
                  FROM events WHERE id > $maxid AND id % 3 = 0 GROUP BY id};
sql(qq{SELECT lambda.create_view('v_id', \$\$ $views{v_id} \$\$)});
my $seen = stress_run('small_memory', $seconds2, [ 'v_id', 'v_grp' ], ['v_grp']);
ok((grep { /^v_id:overflow\|/ } keys %$seen), "v_id's speed layer overflowed during the run");
foreach my $name (@names)
{
	is(differences($node, $name, $views{$name}), '0', "$name exact after the small-memory run");
}

$node->stop;
done_testing();
