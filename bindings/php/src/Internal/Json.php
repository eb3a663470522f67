<?php

declare(strict_types=1);

namespace ChinaUms\Internal;

use ChinaUms\Exception\InternalException;
use ChinaUms\Exception\ValidationException;

/**
 * JSON in and out of the library.
 *
 * @internal
 */
final class Json
{
    /** Keep Chinese text and URLs readable, as the gateway sends them. */
    public const FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES;

    /**
     * A request or config as the JSON object text the library wants. A string
     * is passed through untouched (its exact bytes are what gets signed); an
     * array is encoded, and an empty array becomes {} (PHP cannot tell [] from
     * {}; at the top level it can only mean an object). Nested empty objects
     * must be given as `new \stdClass()` or `(object) []`.
     *
     * @param array<mixed>|string|object $value
     */
    public static function encodeObject(array|string|object $value, string $what): string
    {
        if (is_string($value)) {
            return $value;
        }
        if ($value === []) {
            return '{}';
        }
        try {
            return json_encode($value, self::FLAGS | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            // The message names the problem (e.g. malformed UTF-8), never a value.
            throw new ValidationException(3, 'UMS_ERR_INVALID_JSON', $what . ' cannot be encoded as JSON: ' . $e->getMessage(), [
                'status' => 'UMS_ERR_INVALID_JSON',
                'message' => $what . ' cannot be encoded as JSON: ' . $e->getMessage(),
            ]);
        }
    }

    /**
     * A library result (always a JSON object) as an associative array. Big
     * integers stay strings rather than turning into floats.
     *
     * @return array<string, mixed>
     */
    public static function decodeObject(string $text): array
    {
        $value = self::decodeObjectOrNull($text);
        if ($value === null) {
            throw new InternalException(Library::INTERNAL, 'UMS_ERR_INTERNAL', 'libums returned a result that is not a JSON object', []);
        }
        return $value;
    }

    /** @return array<string, mixed>|null */
    public static function decodeObjectOrNull(string $text): ?array
    {
        try {
            $value = json_decode($text, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        } catch (\JsonException) {
            return null;
        }
        // An object, not a list: PHP decodes both to arrays. The library
        // writes compact JSON, so the first byte tells.
        return is_array($value) && $text[0] === '{' ? $value : null;
    }
}
