<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * A bug or an unexpected state: UMS_ERR_INTERNAL, UMS_ERR_PANIC, an unknown
 * status, or a library that could not be loaded or answered nonsense.
 */
class InternalException extends UmsException
{
}
