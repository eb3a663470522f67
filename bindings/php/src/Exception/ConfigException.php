<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The client configuration is invalid (UMS_ERR_CONFIG); getField() names the
 * key. Nothing was sent (phase "local").
 */
class ConfigException extends UmsException
{
    protected static function localDefaults(): array
    {
        return ['phase' => 'local', 'nothingSent' => true, 'outcomeUnknown' => false];
    }
}
