<?php
/*
 * One worker process of the fleet test (tests/fleet/run.py), through the PHP
 * binding (bindings/php/autoload.php, libums from UMS_LIBRARY).
 *
 *   php worker.php ID CALLS_PER_PHASE BILL_NO BILL_DATE AMOUNT
 *   environment: FLEET_CONFIG = the client configuration (JSON text)
 *
 * Same protocol as worker.c: prints "ready ID", then for each "phase K"
 * line on stdin makes CALLS_PER_PHASE calls (get-qrcode of the one-off bill
 * first, bills/query of it after) and prints
 * "done K ok=N failed=N unauthorized=N err=<first error or ->"; exits 0 at
 * the end of stdin, prints "fatal <why>" and exits 1 on anything else.
 * With CALLS_PER_PHASE 1 and one phase it is one php-fpm request: a new
 * process, one client, one call.
 */

declare(strict_types=1);

require_once __DIR__ . '/../../bindings/php/autoload.php';

use ChinaUms\Client;
use ChinaUms\Exception\UmsException;

function say(string $text): void
{
    fwrite(STDOUT, $text . "\n");
    fflush(STDOUT);
}

function oneLine(UmsException $e): string
{
    $doc = $e->getDocument();
    $text = json_encode($doc === [] ? ['message' => $e->getMessage()] : $doc, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    return substr('status=' . $e->getStatus() . ' ' . ($text === false ? '?' : $text), 0, 420);
}

$config = getenv('FLEET_CONFIG');
if ($argc !== 6 || $config === false) {
    say('fatal usage: worker.php ID CALLS_PER_PHASE BILL_NO BILL_DATE AMOUNT (FLEET_CONFIG set)');
    exit(1);
}
[$id, $calls, $billNo, $billDate, $amount] = [$argv[1], (int) $argv[2], $argv[3], $argv[4], (int) $argv[5]];

try {
    $client = new Client($config);
} catch (UmsException $e) {
    say('fatal client ' . oneLine($e));
    exit(1);
}
say("ready $id");
$create = ['billNo' => $billNo, 'billDate' => $billDate, 'totalAmount' => $amount, 'billDesc' => "fleet worker $id"];
$query = ['billNo' => $billNo, 'billDate' => $billDate];
$haveBill = false;

while (($line = fgets(STDIN)) !== false) {
    $line = trim($line);
    if (!str_starts_with($line, 'phase ')) {
        say('fatal unknown command');
        $client->close();
        exit(1);
    }
    $ok = $failed = $unauthorized = 0;
    $firstError = null;
    for ($i = 0; $i < $calls; $i++) {
        $creating = !$haveBill;
        try {
            if ($creating) {
                $client->getQrcode($create);
                $haveBill = true;
            } else {
                $client->queryBill($query);
            }
            $ok++;
        } catch (UmsException $e) {
            $failed++;
            if ($e->getHttpStatus() === 401) {
                $unauthorized++;
            }
            $firstError ??= oneLine($e);
            // Made by an earlier attempt whose answer was lost.
            if ($creating && $e->getErrCode() === 'DUP_ORDER') {
                $haveBill = true;
            }
        }
    }
    say(sprintf('done %s ok=%d failed=%d unauthorized=%d err=%s', substr($line, 6), $ok, $failed, $unauthorized, $firstError ?? '-'));
}
$client->close();
exit(0);
