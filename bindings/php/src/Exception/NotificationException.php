<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * A payment notification failed verification (UMS_ERR_NOTIFY_*): do not
 * trust it, and answer ChinaUMS "FAILED". getReason() says why, with the
 * same words in every binding: bad_signature, missing_sign,
 * unknown_sign_type, duplicate_field (getField() names the field) or
 * malformed.
 */
class NotificationException extends UmsException
{
    /** Reasons by status, stable strings for callers to switch on. */
    private const REASONS = [
        13 => 'bad_signature',
        14 => 'missing_sign',
        15 => 'unknown_sign_type',
        16 => 'duplicate_field',
        17 => 'malformed',
    ];

    /**
     * "bad_signature", "missing_sign", "unknown_sign_type", "duplicate_field"
     * or "malformed".
     */
    public function getReason(): string
    {
        return self::REASONS[$this->getStatus()] ?? 'invalid';
    }
}
