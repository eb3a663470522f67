<?php
/*
 * One of the parallel processes of the concurrency test (PHP has no threads):
 *
 *   php worker.php SIMULATOR_URL [CALLS]
 *
 * a client of its own on the ums-sandbox simulator at SIMULATOR_URL (shared
 * with the other workers), CALLS update-qrcode calls with fresh bill numbers,
 * then one repeated bill number that must be refused.
 * Prints "ok <calls> <billNos...>" or "fail <reason>".
 */

declare(strict_types=1);

require_once __DIR__ . '/../autoload.php';

use ChinaUms\Client;
use ChinaUms\Exception\GatewayRejectedException;

require_once __DIR__ . '/Simulator.php';

$url = $argv[1] ?? '';
if (!str_starts_with($url, 'http://')) {
    fwrite(STDERR, "usage: php worker.php SIMULATOR_URL [CALLS]\n");
    exit(2);
}
$calls = (int) ($argv[2] ?? 5);
$client = new Client([
    'environment' => $url,
    'appId' => Simulator::APP_ID,
    'appKey' => Simulator::APP_KEY,
    'mid' => Simulator::MID,
    'tid' => Simulator::TID,
    'msgSrcId' => Simulator::MSG_SRC_ID,
]);
$date = (new DateTime('now', new DateTimeZone('+08:00')))->format('Y-m-d');
$billNos = [];
for ($i = 0; $i < $calls; $i++) {
    $billNo = $client->newId();
    $answer = $client->updateQrcode(['qrCodeId' => '31942002267733902130410550', 'billNo' => $billNo, 'billDate' => $date, 'totalAmount' => $i + 1]);
    if (($answer['errCode'] ?? '') !== 'SUCCESS' || ($answer['billNo'] ?? '') !== $billNo) {
        echo "fail call $i answered ", json_encode($answer, JSON_UNESCAPED_UNICODE), "\n";
        exit(1);
    }
    $billNos[] = $billNo;
}
try {
    $client->updateQrcode(['qrCodeId' => '31942002267733902130410550', 'billNo' => $billNos[0], 'billDate' => $date, 'totalAmount' => 1]);
    echo "fail repeated billNo accepted\n";
    exit(1);
} catch (GatewayRejectedException $e) {
    if ($e->getErrCode() !== 'DUP_ORDER') {
        echo 'fail repeated billNo gave ', $e->getErrCode(), "\n";
        exit(1);
    }
}
$client->close();
echo 'ok ', $calls, ' ', implode(' ', $billNos), "\n";
