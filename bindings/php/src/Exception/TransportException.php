<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * No connection to the gateway could be made (UMS_ERR_CONNECT). Nothing was sent.
 */
class TransportException extends UmsException
{
}
