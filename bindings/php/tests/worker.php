<?php
/*
 * One of the parallel processes of the concurrency test (PHP has no threads):
 * a client on this process's own embedded sandbox, N update-qrcode calls with
 * fresh bill numbers, then one repeated bill number that must be refused.
 * Prints "ok <calls> <billNos...>" or "fail <reason>".
 */

declare(strict_types=1);

require_once __DIR__ . '/../autoload.php';

use ChinaUms\Client;
use ChinaUms\Exception\GatewayRejectedException;

$calls = (int) ($argv[1] ?? 5);
$client = new Client(['environment' => 'sandbox', 'mid' => '898340149000005', 'tid' => '00000001']);
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
