# Rows that arrive through logical replication: the apply worker fires row
# triggers only, never statement triggers, so the capture must come from the
# view's row-level trigger there; the initial table synchronization is a COPY
# and fires statement triggers, so it must not be counted twice.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $publisher = PostgreSQL::Test::Cluster->new('publisher');
$publisher->init(allows_streaming => 'logical');
$publisher->start;
my $subscriber = lambda_node('subscriber');

my $query = q{SELECT grp, count(*) AS n, sum(amount) AS total, avg(amount) AS mean,
                     min(amount) AS lo, max(amount) AS hi
                FROM events GROUP BY grp};
my $table = q{CREATE TABLE events (id int PRIMARY KEY, grp text, amount numeric)};

$publisher->safe_psql('postgres', $table);
$publisher->safe_psql('postgres', q{
	INSERT INTO events SELECT i, 'g' || (i % 4), i FROM generate_series(1, 100) i;
	CREATE PUBLICATION lambda_pub FOR TABLE events;
});

$subscriber->safe_psql('postgres', $table);
$subscriber->safe_psql('postgres', q{
	CREATE EXTENSION lambda;
	SELECT lambda.create_master('events');
});
$subscriber->safe_psql('postgres', qq{SELECT lambda.create_view('v', \$\$ $query \$\$)});

# initial synchronization (COPY in a table sync worker)
my $connstr = $publisher->connstr . ' dbname=postgres';
$subscriber->safe_psql('postgres',
	"CREATE SUBSCRIPTION lambda_sub CONNECTION '$connstr' PUBLICATION lambda_pub");
$subscriber->wait_for_subscription_sync($publisher, 'lambda_sub');
is($subscriber->safe_psql('postgres', 'SELECT count(*) FROM events'), '100',
	'initial rows copied');
ok(wait_fast($subscriber, 'v', 30), 'the view is on the fast path');
is(exact($subscriber, 'v', $query), 't|0', 'initial rows counted once, on the fast path');

# streamed changes: single rows, multi-row statements, a rolled-back
# transaction, a batch in between
$publisher->safe_psql('postgres', q{INSERT INTO events VALUES (101, 'g1', 1000)});
$publisher->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'new', i FROM generate_series(102, 150) i});
$publisher->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO events VALUES (151, 'never', 1);
	ROLLBACK;
});
$publisher->wait_for_catchup('lambda_sub');
is($subscriber->safe_psql('postgres', 'SELECT count(*) FROM events'), '150',
	'streamed rows applied');
is(exact($subscriber, 'v', $query), 't|0', 'streamed rows counted, on the fast path');
is($subscriber->safe_psql('postgres', q{SELECT n FROM v WHERE grp = 'new'}), '49',
	'a multi-row statement is counted row by row, once');

$subscriber->safe_psql('postgres', q{SELECT lambda.run_batch('v')});
$publisher->safe_psql('postgres',
	q{INSERT INTO events SELECT i, 'after_batch', i FROM generate_series(201, 210) i});
$publisher->wait_for_catchup('lambda_sub');
is(exact($subscriber, 'v', $query), 't|0', 'exact after a batch and more streamed rows');

# the speed layer settled the replicated rows like any others
ok(wait_until($subscriber, q{SELECT speed_groups > 0 FROM lambda.views}, 't', 30),
	'replicated rows are settled into the speed layer');

$subscriber->stop;
$publisher->stop;
done_testing();
