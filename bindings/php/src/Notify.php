<?php

declare(strict_types=1);

namespace ChinaUms;

use ChinaUms\Internal\Json;
use ChinaUms\Internal\Library;

/**
 * Payment notifications: verify the raw body, then answer ChinaUMS.
 *
 *     $raw = file_get_contents('php://input');     // the body exactly as received
 *     try {
 *         $n = Notify::verify($notifyKey, $raw);    // throws NotificationException when forged or damaged
 *         // ... record $n['fields'] (billPayment etc. already parsed) ...
 *         echo Notify::reply(true);                 // "SUCCESS": ChinaUMS stops retrying
 *     } catch (\ChinaUms\Exception\NotificationException $e) {
 *         echo Notify::reply(false);                // "FAILED": ChinaUMS retries
 *     }
 *
 * Do not verify $_POST re-encoded: PHP rewrites keys ("." and " " become "_")
 * and loses repeated fields; the signature covers the raw form.
 *
 * With a Client configured with `notifyKey` (and optionally `notifySignTypes`,
 * e.g. ["SHA256"] to refuse MD5-signed notifications), prefer
 * $client->verifyNotify($raw): the key then stays inside the library.
 */
final class Notify
{
    /**
     * Verifies a notification body with the communication key.
     *
     * @return array{valid: bool, signType: string, notifyId: mixed, fields: array<string, mixed>}
     * @throws Exception\NotificationException for a bad signature, a missing sign,
     *         an unknown signType, a repeated field or a malformed body (getReason())
     */
    public static function verify(string $notifyKey, string $rawBody): array
    {
        if (str_contains($notifyKey, "\0")) {
            throw Library::exception(5, '{"status":"UMS_ERR_INVALID_ARGUMENT","message":"argument `notifyKey` contains a NUL byte","field":"notifyKey"}');
        }
        $length = strlen($rawBody);
        // The body goes as a pointer plus its length: any bytes, no copy.
        /** @var array{valid: bool, signType: string, notifyId: mixed, fields: array<string, mixed>} */
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_verify_notify($notifyKey, $rawBody, $length, $buf, $cap, $len)
        ));
    }

    /** The text to answer the notification with: "SUCCESS" when handled, else "FAILED". */
    public static function reply(bool $handled): string
    {
        return Library::cstring(Library::ffi()->ums_notify_reply($handled ? 1 : 0));
    }
}
