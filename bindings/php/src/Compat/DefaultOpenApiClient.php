<?php

declare(strict_types=1);

namespace ChinaUms\Compat;

use ChinaUms\Client;
use ChinaUms\Exception\GatewayRejectedException;
use ChinaUms\Exception\OperationFailedException;
use ChinaUms\Exception\PendingException;
use ChinaUms\Exception\UmsException;
use ChinaUms\Exception\ValidationException;
use ChinaUms\Internal\Json;

/**
 * Drop-in for the official PHP SDK's DefaultOpenApiClient: the same call
 * shape, `execute($request, $appId, $appKey)` returning the gateway's JSON
 * answer as a string, with libums doing the signing, checks and transport.
 *
 * $request is the official sample's DataRequest (public url, serviceCode,
 * apiVersion, needToken, needDataTag, data; data a JSON string, or an array).
 *
 * - Success and gateway rejections (DUP_ORDER, NO_ORDER, ...): returns the
 *   gateway's answer JSON, like the official SDK. So are answers whose state
 *   is not final or failed (a refund with refundStatus PROCESSING, UNKNOWN or
 *   FAIL, which the Client API throws as PendingException /
 *   OperationFailedException): check that state as with the official SDK.
 * - Everything decided locally or of unknown outcome throws a
 *   ChinaUms\Exception\UmsException subclass: ValidationException (bad
 *   request field, named), ConfigException, TransportException/TlsException
 *   (nothing sent), OutcomeUnknownException (may have been processed: query
 *   the bill, never resend).
 *
 * Configuration: the client is made with `"fromEnvironment": true`, so
 * every key the call does not give comes from its UMS_* variable (the rule
 * lives in libums: UMS_ENVIRONMENT, UMS_APP_ID, UMS_APP_KEY, UMS_MID,
 * UMS_TIMEOUT_MS, ...), and a variable that contradicts a key the call gives
 * is a ConfigException naming the key. The call gives appId and appKey (when
 * not empty), auth (from needToken) and the gateway of the URL:
 *
 * - https://api-mop.chinaums.com (the official samples' URL) and
 *   https://test-api-open.chinaums.com only imply production and test: they
 *   are given as libums's `"environmentDefault"`, which applies when
 *   UMS_ENVIRONMENT is unset; UMS_ENVIRONMENT may replace it only with a
 *   loopback http:// URL (the ums-sandbox simulator's http://127.0.0.1:PORT),
 *   any other value ("test", "production", another host) is a
 *   ConfigException naming `environment`;
 * - any other URL is the `environment` itself (UMS_ENVIRONMENT may only
 *   repeat it).
 *
 * One client per configuration is kept for the process (connections and
 * access tokens are reused); the variables are read when it is created.
 */
class DefaultOpenApiClient
{
    private const HOSTS = [
        'api-mop.chinaums.com' => 'production',
        'test-api-open.chinaums.com' => 'test',
    ];

    /**
     * Clients by configuration fingerprint, kept for the process so that
     * connections and access tokens are reused across execute() calls.
     *
     * @var array<string, Client>
     */
    private static array $clients = [];

    /**
     * @param object|array<string, mixed> $request a DataRequest
     * @param string $appId developer ID (UMS_APP_ID may only repeat it; empty: taken from UMS_APP_ID)
     * @param string $appKey developer key (likewise UMS_APP_KEY)
     * @return string the gateway's JSON answer
     */
    public function execute($request, $appId, $appKey): string
    {
        $fields = is_array($request) ? $request : get_object_vars($request);
        [$base, $path] = self::endpoint($fields);

        $config = ['fromEnvironment' => true];
        $implied = self::defaultEnvironment($base);
        if ($implied === null) {
            $config['environment'] = $base;
        } else {
            $config['environmentDefault'] = $implied;
        }
        if ((string) $appId !== '') {
            $config['appId'] = (string) $appId;
        }
        if ((string) $appKey !== '') {
            $config['appKey'] = (string) $appKey;
        }
        $config['auth'] = self::flag($fields['needToken'] ?? true) ? 'token' : 'body-sig';

        $body = self::body($fields['data'] ?? null);
        if (self::flag($fields['needDataTag'] ?? false)) {
            $body = '{"data":' . $body . '}';
        }

        try {
            return self::client($config)->callRaw($path, $body);
        } catch (GatewayRejectedException | PendingException | OperationFailedException $e) {
            // Like the official SDK: a refusal, or a state that is not final
            // (or failed), is an answer, returned as the gateway gave it.
            $answer = self::gatewayAnswer($e);
            if ($answer === null) {
                throw $e;
            }
            return $answer;
        }
    }

    /**
     * Closes and forgets the clients kept for the process (for example after
     * changing UMS_* variables, which are read when a client is created).
     */
    public static function clearClients(): void
    {
        foreach (self::$clients as $client) {
            $client->close();
        }
        self::$clients = [];
    }

    /**
     * The base URL and the service path from url + apiVersion + serviceCode.
     * Also accepts serviceCode holding the whole URL, which is what the
     * official sample's DataRequest computes when its preg_split pattern
     * fails (its "/[/]+/s" is not a valid PHP regex).
     *
     * @param array<string, mixed> $fields
     * @return array{0: string, 1: string}
     */
    private static function endpoint(array $fields): array
    {
        $url = trim((string) ($fields['url'] ?? ''));
        $version = trim((string) ($fields['apiVersion'] ?? ''), '/');
        $code = trim((string) ($fields['serviceCode'] ?? ''));
        if (preg_match('~^https?://~i', $code)) {
            $full = $code;
        } else {
            $path = '/' . ltrim($code, '/');
            if ($version !== '' && !str_starts_with($path, '/' . $version . '/')) {
                $path = '/' . $version . $path;
            }
            $full = rtrim($url, '/') . $path;
        }
        $parts = parse_url($full);
        if (!is_array($parts) || !isset($parts['scheme'], $parts['host']) || !str_starts_with($parts['path'] ?? '', '/v')) {
            throw self::invalid('url', 'the request\'s url, apiVersion and serviceCode do not make a https://host/v1/... URL');
        }
        $base = strtolower($parts['scheme']) . '://' . $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
        return [$base, $parts['path']];
    }

    /**
     * For the official hosts (https, no port): the environment they imply,
     * given to libums as "environmentDefault". Null for any other base URL,
     * which is then the environment itself.
     */
    private static function defaultEnvironment(string $base): ?string
    {
        $host = strtolower((string) parse_url($base, PHP_URL_HOST));
        $port = parse_url($base, PHP_URL_PORT);
        if ($port === null && str_starts_with($base, 'https://') && isset(self::HOSTS[$host])) {
            return self::HOSTS[$host];
        }
        return null;
    }

    /** The request body: data as given when it is a JSON string, else encoded. */
    private static function body(mixed $data): string
    {
        if (is_string($data)) {
            return $data;
        }
        if (is_array($data) || is_object($data)) {
            return Json::encodeObject($data, 'the request data');
        }
        throw self::invalid('data', 'the request\'s data must be a JSON object string or an array');
    }

    /**
     * The kept client for $config, created on first use (libums reads the
     * UMS_* variables then, and applies "environmentDefault").
     *
     * @param array<string, mixed> $config
     */
    private static function client(array $config): Client
    {
        $json = Json::encodeObject($config, 'the configuration');
        // A fingerprint, so the key is not kept as an array key in clear.
        $key = hash('sha256', $json);
        return self::$clients[$key] ??= new Client($json);
    }

    /** The gateway's answer from a rejection, as JSON text ({} and [] kept apart). */
    private static function gatewayAnswer(UmsException $e): ?string
    {
        $document = json_decode($e->getDocumentJson(), false, 512, JSON_BIGINT_AS_STRING);
        if (!is_object($document) || !isset($document->response) || !is_object($document->response)) {
            return null;
        }
        $text = json_encode($document->response, Json::FLAGS);
        return $text === false ? null : $text;
    }

    private static function flag(mixed $value): bool
    {
        if (is_string($value)) {
            return in_array(strtolower($value), ['1', 'true', 'yes', 'on'], true);
        }
        return (bool) $value;
    }

    private static function invalid(string $field, string $message): ValidationException
    {
        return new ValidationException(7, 'UMS_ERR_VALIDATION', $message, [
            'status' => 'UMS_ERR_VALIDATION',
            'kind' => 'validation',
            'message' => $message,
            'field' => $field,
            'nothingSent' => true,
        ]);
    }
}
