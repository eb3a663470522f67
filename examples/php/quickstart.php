<?php
/*
 * Quick start: update the doc page's QR code with a new bill, then show how
 * each kind of failure surfaces. Runs against the ums-sandbox simulator (no
 * network, its public demo app), whose URL it takes as its argument:
 *
 *   target/release/ums-sandbox --port 0     # prints "ums-sandbox listening on http://127.0.0.1:PORT"
 *   php examples/php/quickstart.php http://127.0.0.1:PORT
 *
 * For the real gateway use e.g.
 *   ['environment' => 'production', 'appId' => ..., 'appKey' => ..., 'mid' => ..., 'tid' => ..., 'msgSrcId' => ...]
 */

declare(strict_types=1);

// With Composer: require 'vendor/autoload.php';
require_once __DIR__ . '/../../bindings/php/autoload.php';

use ChinaUms\Client;
use ChinaUms\Exception\GatewayRejectedException;
use ChinaUms\Exception\OutcomeUnknownException;
use ChinaUms\Exception\TransportException;
use ChinaUms\Exception\ValidationException;

$url = $argv[1] ?? '';
if ($url === '') {
    fwrite(STDERR, "usage: php examples/php/quickstart.php SIMULATOR_URL (the URL ums-sandbox prints)\n");
    exit(2);
}
$client = new Client([
    'environment' => $url,                         // "production", "test" or a base URL
    'appId' => '10037e6f66f2d0f901672aa27d690006', // the simulator's demo app (public)
    'appKey' => '47ace12ae3b348fe93ab46cee97c6fde',
    'mid' => '898340149000005',
    'tid' => '00000001',
    'msgSrcId' => '3194',                          // for newId()
]);
echo 'libums ', Client::libraryVersion(), "\n";

$billNo = $client->newId();                        // 28 characters, unique
$billDate = (new DateTime('now', new DateTimeZone('+08:00')))->format('Y-m-d'); // Beijing date
$request = [
    'qrCodeId' => '31942002267733902130410550',
    'billNo' => $billNo,
    'billDate' => $billDate,
    'totalAmount' => 26,                           // fen; "26" works too
    'goods' => [['goodsId' => '001', 'goodsName' => '鸡蛋', 'quantity' => '10', 'price' => '1']],
    // requestTimestamp, mid, tid and instMid are filled in by the library.
];

try {
    $answer = $client->updateQrcode($request);
    echo "update-qrcode: {$answer['errCode']} {$answer['errMsg']}\n";
    echo "QR code URL: {$answer['billQRCode']}\n";
} catch (ValidationException $e) {
    // Nothing was sent; the field is named.
    echo "invalid field {$e->getField()}: {$e->getMessage()}\n";
} catch (GatewayRejectedException $e) {
    // The gateway said no (DUP_ORDER, NO_ORDER, ...): nothing happened.
    echo "rejected: {$e->getErrCode()} {$e->getErrMsg()}\n";
} catch (OutcomeUnknownException $e) {
    // May have been processed: query the bill, never resend.
    echo "outcome unknown ({$e->getMessage()}): query bill $billNo before doing anything\n";
} catch (TransportException $e) {
    // Could not connect (or TLS failed): nothing was sent, safe to retry later.
    echo "no connection: {$e->getMessage()}\n";
}

// The same bill number again is refused by the gateway.
try {
    $client->updateQrcode($request);
} catch (GatewayRejectedException $e) {
    echo "again: {$e->getErrCode()} ({$e->getErrMsg()}), HTTP {$e->getHttpStatus()}\n";
}

// A field that breaks a rule never leaves the process.
try {
    $client->updateQrcode($request + ['walletOption' => 'TRIPLE']);
} catch (ValidationException $e) {
    echo "validation: {$e->getMessage()}\n";
}

// What would be sent, without sending it.
$prepared = $client->prepare('update-qrcode', ['qrCodeId' => '31942002267733902130410550', 'billNo' => $client->newId(), 'billDate' => $billDate]);
echo "would POST {$prepared['url']} with ", strlen($prepared['body']), " bytes\n";

$client->close();
