<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The gateway refused the request (UMS_ERR_GATEWAY_REJECTED), or the token
 * endpoint refused to issue a token (UMS_ERR_TOKEN_REJECTED). See getErrCode(),
 * getErrMsg(), getHttpStatus() and getResponse().
 */
class GatewayRejectedException extends UmsException
{
}
