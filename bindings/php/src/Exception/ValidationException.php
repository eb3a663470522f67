<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * A request or argument is invalid: UMS_ERR_VALIDATION (getField() names the field),
 * UMS_ERR_INVALID_JSON, UMS_ERR_INVALID_UTF8, UMS_ERR_INVALID_ARGUMENT or
 * UMS_ERR_NULL_POINTER. Nothing was sent (phase "local").
 */
class ValidationException extends UmsException
{
    protected static function localDefaults(): array
    {
        return ['phase' => 'local', 'nothingSent' => true, 'outcomeUnknown' => false];
    }
}
