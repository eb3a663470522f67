<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The client configuration is invalid (UMS_ERR_CONFIG); getField() names the key.
 */
class ConfigException extends UmsException
{
}
