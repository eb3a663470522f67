<?php
/*
 * Prints prepare() of a fixed request as one JSON line, for the
 * cross-language byte-identity check: every binding must print the same
 * url, path, body and authorization.
 */

declare(strict_types=1);

require_once __DIR__ . '/../autoload.php';

use ChinaUms\Client;

$config = '{"environment":"https://gateway.invalid","appId":"10037e6f66f2d0f901672aa27d690006","appKey":"47ace12ae3b348fe93ab46cee97c6fde","mid":"898340149000005","tid":"00000001"}';
$request = '{"qrCodeId":"31942002267733902130410550","billNo":"31940000000000000000000001","billDate":"2026-01-02","totalAmount":"26","goods":"[{\"goodsId\":\"001\",\"goodsName\":\"鸡蛋\",\"quantity\":\"10\",\"price\":\"1\"}]","name":"张*三"}';

$client = new Client($config);
$prepared = $client->prepare('update-qrcode', $request, '20260102030405', '0123456789abcdef0123456789abcdef');
echo json_encode($prepared, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
