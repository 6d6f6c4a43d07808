# Fault isolation: a view whose deltas cannot be merged (float sums that
# overflow in the speed layer where the query's running sum does not) loses
# its speed state, logs the error once with the view named, answers exactly
# through the slow path and gets it back from a batch; the worker does not
# crash-loop, and another view of the same master keeps settling on the
# fast path.  A read that meets the same overflow answers as the query.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = lambda_node('faults');

my $bad = q{SELECT k, sum(f) AS total, count(*) AS n FROM events GROUP BY k};
my $good = q{SELECT k, count(*) AS n FROM events GROUP BY k};

sub sql { return $node->safe_psql('postgres', $_[0]) }

sub worker_pid
{
	return sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'lambda worker'});
}

# Wait for a whole worker round that began after the call
sub round
{
	my ($view) = @_;
	my $start = sql(qq{SELECT lambda.settle_rounds('$view')});
	return wait_until($node, qq{SELECT lambda.settle_rounds('$view') >= $start + 2});
}

sql(q{
	CREATE EXTENSION lambda;
	CREATE TABLE events (k text NOT NULL, f float8);
	SELECT lambda.create_master('events');
});
sql(qq{SELECT lambda.create_view('bad', \$\$ $bad \$\$)});
sql(qq{SELECT lambda.create_view('good', \$\$ $good \$\$)});
ok(wait_fast($node, 'bad') && wait_fast($node, 'good'), 'both views on the fast path');
ok(wait_until($node, q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'lambda worker'}),
	'a worker runs');
my $pid = worker_pid();

# A: +1e308, settled.  Then, while D holds the horizon back (nothing that
# commits after D began settles before D ends), B inserts -1e308 and
# commits, C inserts +1e308 and commits.  The master holds +1e308, -1e308,
# +1e308 in that order: its running sum never overflows.  Once D ends the
# worker settles the newest delta first: A + C overflows.
sql(q{INSERT INTO events VALUES ('a', 1e308)});
ok(round('bad'), 'A settled');
my $d = $node->background_psql('postgres');
$d->query_safe(q{BEGIN; SELECT pg_current_xact_id()});
sql(q{INSERT INTO events VALUES ('a', -1e308)});
sql(q{INSERT INTO events VALUES ('a', 1e308), ('b', 1)});
# meanwhile readers merge the same deltas: where that overflows and the
# query does not, they answer as the query does
is(sql(q{SELECT total FROM bad WHERE k = 'a'}), '1e+308',
	'a point read whose merge overflows answers as the query');
is(differences($node, 'bad', $bad), '0', 'so does a full read');
my $offset = -s $node->logfile;
$d->query_safe(q{COMMIT});
$d->quit;
sql(q{INSERT INTO events VALUES ('c', 2)});
ok(round('good'), 'a round after the commits');
ok(round('good'), 'and another');

# the view that failed: exact, through the slow path, then the fast path again
is(differences($node, 'bad', $bad), '0', 'the failed view is exact');
ok(wait_fast($node, 'bad'), 'a batch restored its fast path');
is(exact($node, 'bad', $bad), 't|0', 'exact on the fast path');
is(sql(q{SELECT total FROM bad WHERE k = 'a'}), '1e+308', 'the sum is the query\'s');

# the other view carried on; the worker did not die
is(sql(q{SELECT speed_pending FROM lambda.views WHERE view = 'good'::regclass}), '0',
	'the other view settled');
is(exact($node, 'good', $good), 't|0', 'the other view is exact on the fast path');
is(worker_pid(), $pid, 'the same worker still runs');

my $log = slurp_file($node->logfile, $offset);
my @errors = ($log =~ /ERROR:  value out of range: overflow/g);
is(scalar(@errors), 1, 'the error was logged once');
like($log, qr/CONTEXT:  lambda worker settling view "bad"/, 'naming the view');
like($log, qr/view "bad" answers through the exact slow path/, 'and what it means');

# rows after the recovery settle as before
sql(q{INSERT INTO events VALUES ('a', -1e308), ('d', 1)});
ok(round('bad'), 'a round after new rows');
is(sql(q{SELECT speed_pending FROM lambda.views WHERE view = 'bad'::regclass}), '0',
	'the failed view settles again');
is(exact($node, 'bad', $bad), 't|0', 'exact on the fast path');

done_testing();
